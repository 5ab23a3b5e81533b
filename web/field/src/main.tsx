import { render } from "preact";

function App() {
  return (
    <main>
      <h1>جولة</h1>
      <p>{window.isSecureContext ? "…" : "Insecure context: open the app over HTTPS or on localhost."}</p>
    </main>
  );
}

render(<App />, document.getElementById("app")!);
if (window.isSecureContext && "serviceWorker" in navigator) navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" });
