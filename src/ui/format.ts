/** Text helpers the views share: fixed-width cells, ages and counts in a few characters. */

/** The text in exactly n columns: cut with an ellipsis or padded. */
export const pad = (text: string, n: number): string => (text.length > n ? `${text.slice(0, Math.max(0, n - 1))}…` : text.padEnd(n));

/** How long ago: 45s, 3m, 2h, 5d; "-" when unknown. */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const sec = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return sec < 60 ? `${sec}s` : sec < 3600 ? `${Math.round(sec / 60)}m` : sec < 86400 ? `${Math.round(sec / 3600)}h` : `${Math.round(sec / 86400)}d`;
}

/** 950, 1.2k, 3.4M. */
export const count = (x: number): string => (x >= 1_000_000 ? `${(x / 1_000_000).toFixed(1)}M` : x >= 1000 ? `${(x / 1000).toFixed(1)}k` : String(Math.round(x)));
