// The public code on a shop-front sticker, as the field app reads it: from the QR (a link to
// /shops/<code>/ on the Amanah's site), from a pasted or opened link, or typed from under the QR.
// Codes are letters and digits (10 today, of an alphabet without 0/O/1/I/L); the server decides
// whether one exists and is in the inspector's area.

const CODE = /^[0-9A-Za-z]{4,16}$/;
const IN_LINK = /\/shops\/([0-9A-Za-z]{4,16})\/?(?:[?#].*)?$/;

/** The code in `text` (upper case), or null when it is neither a code nor a link to a shop's page. */
export function shopCodeFrom(text: string): string | null {
  const trimmed = text.trim();
  if (CODE.test(trimmed)) return trimmed.toUpperCase();
  const linked = IN_LINK.exec(trimmed.replace(/\s+/g, ""));
  return linked ? linked[1].toUpperCase() : null;
}
