// Placeholder from the scaffold; replaced by the view's own branch.
export default function AdminBoard() {
  return (
    <section aria-labelledby="view-title">
      <h1 id="view-title">AdminBoard</h1>
      <p>Coming soon.</p>
    </section>
  );
}
