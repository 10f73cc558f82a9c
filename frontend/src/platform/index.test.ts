import { describe, expect, it, vi } from 'vitest';
import { detectPlatform } from './index';

describe('detectPlatform', () => {
  it('uses the browser with the page origin and no token', async () => {
    const p = detectPlatform({ location: { origin: 'http://127.0.0.1:9000' } } as never);
    expect(p.kind).toBe('browser');
    expect(await p.connection()).toEqual({ url: 'http://127.0.0.1:9000', token: '' });
    expect(p.openProject).toBeUndefined();
  });

  it('uses the Wails bindings when the desktop shell injected them', async () => {
    const Info = vi.fn().mockResolvedValue({ url: 'http://127.0.0.1:4000', token: 'abc', project: '/p', version: '0.1.0' });
    const p = detectPlatform({ go: { main: { App: { Info } } }, location: { origin: 'wails://wails' } } as never);
    expect(p.kind).toBe('desktop');
    expect(await p.connection()).toEqual({ url: 'http://127.0.0.1:4000', token: 'abc' });
    expect(Info).toHaveBeenCalledOnce();
  });
});
