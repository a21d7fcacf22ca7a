// Specialties: create, rename, describe, deactivate and reactivate.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { FormError, invalid } from './forms';
import { CREATE_SPECIALTY, SPECIALTIES, UPDATE_SPECIALTY, type Specialty } from './operations';

const NO_VARIABLES = {};

function SpecialtyRow({ specialty, onSaved }: { specialty: Specialty; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(specialty.name);
  const [description, setDescription] = useState(specialty.description ?? '');
  const [update, run] = useMutation(UPDATE_SPECIALTY);

  const save = async (input: { name?: string; description?: string | null; isActive?: boolean }) => {
    const result = await run({ id: specialty.id, input });
    if (!result.error) {
      setEditing(false);
      onSaved();
    }
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save({ name: name.trim(), description: description.trim() || null });
  };

  return (
    <li data-testid="specialty-row" data-specialty-id={specialty.id} data-active={specialty.isActive}>
      {editing ? (
        <form onSubmit={submit} className="inline-form">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required {...invalid(update.error, 'name')} />
          </label>
          <label>
            Description
            <input value={description} onChange={(e) => setDescription(e.target.value)} {...invalid(update.error, 'description')} />
          </label>
          <button type="submit" className="primary" disabled={update.fetching}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <div className="row-line">
          <span>
            <strong>{specialty.name}</strong>
            {specialty.description && <span className="muted"> {specialty.description}</span>}
            {!specialty.isActive && <span className="tag">inactive</span>}
          </span>
          <span className="row-actions">
            <button
              type="button"
              onClick={() => {
                setName(specialty.name);
                setDescription(specialty.description ?? '');
                setEditing(true);
              }}
              aria-label={`Edit ${specialty.name}`}
            >
              Edit
            </button>
            <button
              type="button"
              onClick={() => void save({ isActive: !specialty.isActive })}
              disabled={update.fetching}
              aria-label={`${specialty.isActive ? 'Deactivate' : 'Activate'} ${specialty.name}`}
            >
              {specialty.isActive ? 'Deactivate' : 'Activate'}
            </button>
          </span>
        </div>
      )}
      <FormError error={update.error} />
    </li>
  );
}

export function SpecialtiesPanel() {
  const [list, refetch] = useQuery({ query: SPECIALTIES, variables: NO_VARIABLES, requestPolicy: 'cache-and-network' });
  const [created, create] = useMutation(CREATE_SPECIALTY);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [notice, setNotice] = useState('');
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await create({ input: { name: name.trim(), description: description.trim() || null } });
    if (!result.error && result.data) {
      setNotice(`Specialty ${result.data.createSpecialty.name} created.`);
      setName('');
      setDescription('');
      reload();
    }
  };

  return (
    <section className="panel" aria-labelledby="specialties-title">
      <h2 id="specialties-title">Specialties</h2>
      <form onSubmit={(e) => void submit(e)} className="stack-form" aria-label="New specialty">
        <label>
          Name
          <input
            name="specialty-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            {...invalid(created.error, 'name')}
          />
        </label>
        <label>
          Description (optional)
          <input
            name="specialty-description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            {...invalid(created.error, 'description')}
          />
        </label>
        <button type="submit" className="primary" disabled={created.fetching}>
          Add specialty
        </button>
        <FormError error={created.error} />
        <p role="status" className="notice">
          {notice}
        </p>
      </form>
      {list.error && <FormError error={list.error} />}
      <ul className="managed-list" data-testid="specialty-list">
        {list.data?.specialties.map((s) => <SpecialtyRow key={s.id} specialty={s} onSaved={reload} />)}
      </ul>
    </section>
  );
}
