import type { Platform } from './platform';

/** The browser studio is served by the server it manages: same origin,
 * authenticated by the HttpOnly session cookie set at sign-in. */
export function browserPlatform(location: { origin: string }): Platform {
  return {
    kind: 'browser',
    connection: async () => ({ url: location.origin, token: '' }),
    openExternal: (url) => void window.open(url, '_blank', 'noopener,noreferrer'),
  };
}
