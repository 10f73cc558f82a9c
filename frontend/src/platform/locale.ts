// Some webviews report a locale that Intl rejects: WebKitGTK under LANG=C
// (containers, CI, minimal servers) says navigator.language is "C", and
// libraries that format numbers or dates at import time (uPlot) then throw
// before the studio can start. This module is imported first by main.ts and
// replaces such a tag with "en-US".

export function validLocale(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

/** Makes nav.language and nav.languages valid BCP 47 tags; returns whether
 * it had to. */
export function sanitizeLocale(nav: Navigator): boolean {
  const languages = (nav.languages ?? []).filter(validLocale);
  if (validLocale(nav.language) && languages.length === (nav.languages ?? []).length) return false;
  const language = validLocale(nav.language) ? nav.language : (languages[0] ?? 'en-US');
  Object.defineProperty(nav, 'language', { configurable: true, get: () => language });
  Object.defineProperty(nav, 'languages', { configurable: true, get: () => (languages.length ? languages : [language]) });
  return true;
}

sanitizeLocale(navigator);
