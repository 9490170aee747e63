/** A resource's Origin allow-list: which values are origins, and which requests pass. */
import { describe, expect, it } from 'vitest';
import { allowedOrigins, MAX_ALLOWED_ORIGINS, originAccepted } from '../../lib/origin-allow-list.js';

describe('allowedOrigins (the setting)', () => {
  it('keeps serialized origins, lowercased', () => {
    expect(
      allowedOrigins('allowedOrigins', [
        'https://App.Example.com',
        'http://localhost:6274',
        'http://[::1]:8080',
        'vscode-webview://abc123',
      ]),
    ).toEqual(['https://app.example.com', 'http://localhost:6274', 'http://[::1]:8080', 'vscode-webview://abc123']);
  });

  it.each([
    ['https://app.example.com/', 'a trailing slash'],
    ['https://app.example.com/mcp', 'a path'],
    ['https://app.example.com?x=1', 'a query'],
    ['app.example.com', 'no scheme'],
    ['*', 'a wildcard'],
    ['null', 'the opaque origin'],
    ['https://app.example.com:99999', 'a port over five digits'],
    ['https://user@app.example.com', 'user information'],
    ['https://app.example.com:443', 'the default port, which browsers never send'],
    ['vscode-webview://abc:70000', 'a port over 65535'],
    ['${Token[TOKEN.123]}', 'a CDK token'],
  ])('refuses %s (%s), naming the setting', (value) => {
    expect(() => allowedOrigins('MCP_ALLOWED_ORIGINS', [value])).toThrow(/^MCP_ALLOWED_ORIGINS: .* is not an origin/);
  });

  it(`takes 1 to ${MAX_ALLOWED_ORIGINS} origins`, () => {
    expect(() => allowedOrigins('allowedOrigins', [])).toThrow(/1 to 10 origins, not 0/);
    const many = Array.from({ length: MAX_ALLOWED_ORIGINS + 1 }, (_, i) => `https://app${i}.example.com`);
    expect(() => allowedOrigins('allowedOrigins', many)).toThrow(/not 11/);
    expect(allowedOrigins('allowedOrigins', many.slice(1))).toHaveLength(MAX_ALLOWED_ORIGINS);
  });
});

describe('originAccepted (a request)', () => {
  const allowed = ['https://app.example.com', 'http://localhost:6274'];

  it('lets a request without Origin pass: non-browser clients send none', () => {
    expect(originAccepted(allowed, undefined)).toBe(true);
    expect(originAccepted(allowed, [])).toBe(true);
  });

  it('lets a listed origin pass, in any letter case', () => {
    expect(originAccepted(allowed, ['https://app.example.com'])).toBe(true);
    expect(originAccepted(allowed, ['HTTP://LOCALHOST:6274'])).toBe(true);
  });

  it.each([
    ['https://evil.example.com'],
    ['https://app.example.com.evil.example'],
    ['http://app.example.com'],
    ['https://app.example.com:443'],
    ['http://localhost:6275'],
    ['null'],
  ])('refuses %s', (origin) => {
    expect(originAccepted(allowed, [origin])).toBe(false);
  });

  it('refuses two Origin headers, even if one is listed', () => {
    expect(originAccepted(allowed, ['https://app.example.com', 'https://evil.example.com'])).toBe(false);
  });
});
