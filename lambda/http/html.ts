/** Minimal server-rendered HTML: every interpolated value is escaped, and nothing loads. */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char]);
}

/** Security headers for pages: no framing, no scripts, no referrer, never cached. */
export const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  // No form-action: browsers apply it to the redirect after a submit, and ours lead to other origins.
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
} as const;

export function page(title: string, bodyHtml: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;overflow-wrap:anywhere}button{font:inherit;padding:.5rem 1.25rem;margin:.5rem .5rem 0 0;border-radius:.375rem;border:1px solid #888;background:#fff;cursor:pointer}button.primary{background:#1a56db;border-color:#1a56db;color:#fff}</style>
</head><body>
${bodyHtml}
</body></html>
`;
}
