import { describe, expect, it } from 'vitest';
import { sanitizeLocale, validLocale } from './locale';

const fakeNav = (language: string, languages: string[]) => ({ language, languages }) as unknown as Navigator;

describe('locale', () => {
  it.each([
    ['en-US', true],
    ['de', true],
    ['C', false],
    ['C.UTF-8', false],
    ['', false],
  ])('validLocale(%j) = %j', (tag, want) => expect(validLocale(tag)).toBe(want));

  it('replaces the "C" locale WebKitGTK reports under LANG=C', () => {
    const nav = fakeNav('C', ['C']);
    expect(sanitizeLocale(nav)).toBe(true);
    expect(nav.language).toBe('en-US');
    expect(nav.languages).toEqual(['en-US']);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
  });

  it('keeps valid entries and prefers them', () => {
    const nav = fakeNav('C', ['C', 'fr-FR']);
    sanitizeLocale(nav);
    expect(nav.language).toBe('fr-FR');
    expect(nav.languages).toEqual(['fr-FR']);
  });

  it('leaves a valid locale alone', () => {
    const nav = fakeNav('de-DE', ['de-DE', 'en']);
    expect(sanitizeLocale(nav)).toBe(false);
    expect(nav.language).toBe('de-DE');
  });
});
