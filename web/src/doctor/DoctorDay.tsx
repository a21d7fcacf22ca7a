// Placeholder from the scaffold; replaced by the view's own branch.
export default function DoctorDay() {
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">DoctorDay</h1>
      <p>Coming soon.</p>
    </section>
  );
}
