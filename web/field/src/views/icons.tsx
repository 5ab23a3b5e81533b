// Inline icons (no icon font, no emoji font needed on the phone).
const paths: Record<string, string> = {
  rounds: "M4 5h16v2H4zm0 6h16v2H4zm0 6h10v2H4z",
  map: "M9 3 3 5v16l6-2 6 2 6-2V3l-6 2-6-2zm0 2.2 6 2v11.6l-6-2V5.2z",
  adhoc: "M11 4h2v7h7v2h-7v7h-2v-7H4v-2h7z",
  outbox: "M12 3 6 9h4v6h4V9h4l-6-6zM4 17h16v4H4z",
  inbox: "M12 3a6 6 0 0 0-6 6v4l-2 3v1h16v-1l-2-3V9a6 6 0 0 0-6-6zm-2 16a2 2 0 0 0 4 0z",
};

export function Icon({ name }: { name: keyof typeof paths }) {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path d={paths[name]} fill="currentColor" />
    </svg>
  );
}
