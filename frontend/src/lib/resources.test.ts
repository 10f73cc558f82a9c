import { describe, expect, it } from 'vitest';
import type { Config, ResourceDefinition } from '../api/types.gen';
import { applyResource, changeDocument, fieldFromForm, formFromResource, newField, removeResource, resourceErrorsFor, resourceFromForm, routeIdFor, routeOf, typedValue } from './resources';

const users: ResourceDefinition = {
  name: 'users',
  table: 'users',
  fields: [
    { name: 'name', type: 'string', required: true, maxLength: 100 },
    { name: 'email', type: 'string', unique: true, sensitive: true },
    { name: 'age', type: 'int', default: 18 },
    { name: 'role', type: 'string', enum: ['admin', 'member'], default: 'member' },
    { name: 'score', type: 'float', enum: [1.5, 2] },
    { name: 'active', type: 'bool', default: true },
  ],
};
const base = (): Config => ({
  server: { listen: '127.0.0.1:8080' },
  database: { primary: 'sqlite:x.db' },
  auth: { issuer: 'covet', audience: 'covet-api' },
  resources: [users],
  routes: [
    { id: 'hello', method: 'GET', path: '/hello', kind: 'mock' },
    { id: 'users', method: '', path: '/users', kind: 'resource', resource: 'users' },
  ],
});

describe('resource form', () => {
  it('round-trips a resource through the form', () => {
    expect(resourceFromForm(formFromResource(users))).toEqual(users);
  });

  it('starts a new resource with one required field, exposed', () => {
    const f = formFromResource();
    expect(f.fields).toEqual([{ ...newField(), name: 'name', required: true }]);
    expect(f.expose).toBe(true);
  });

  it('reads the route of an exposed resource and defaults the table to the name', () => {
    const c = base();
    const f = formFromResource(users, routeOf(c, 'users'));
    expect(f).toMatchObject({ expose: true, path: '/users', table: '' });
    expect(formFromResource({ ...users, table: 'people' }).table).toBe('people');
    expect(formFromResource(users).expose).toBe(false);
  });

  it.each([
    ['42', 'int', 42],
    ['4.5', 'float', 4.5],
    ['x', 'int', 'x'],
    ['', 'int', ''],
    ['true', 'bool', true],
    ['false', 'bool', false],
    ['yes', 'bool', 'yes'],
    [' hi ', 'string', ' hi '],
    ['2026-01-01T00:00:00Z', 'time', '2026-01-01T00:00:00Z'],
  ])('types %j as %s', (text, type, want) => {
    expect(typedValue(text, type)).toEqual(want);
  });

  it('splits enums on commas and leaves out empty settings', () => {
    expect(fieldFromForm({ ...newField(), name: ' tier ', type: 'int', enum: '1, 2,,3 ', maxLength: '' })).toEqual({ name: 'tier', type: 'int', enum: [1, 2, 3] });
    expect(fieldFromForm({ ...newField(), name: 'n', maxLength: 'abc' }).maxLength).toBe('abc');
  });
});

describe('applyResource', () => {
  it('adds a resource and its route without a method', () => {
    const c: Config = { ...base(), resources: [], routes: [base().routes[0]] };
    const form = { ...formFromResource(), name: 'posts' }; // a blank path is /<name>
    const change = applyResource(c, form);
    expect(change.resourceIndex).toBe(0);
    expect(change.routeIndex).toBe(1);
    expect(change.config.routes[1]).toEqual({ id: 'posts', path: '/posts', kind: 'resource', resource: 'posts' });
    expect('method' in change.config.routes[1]).toBe(false);
    expect(c.resources).toEqual([]); // the input is untouched
  });

  it('picks a free route id', () => {
    const c = base();
    c.routes.push({ id: 'posts', method: 'GET', path: '/p', kind: 'mock' });
    expect(routeIdFor(c, 'posts')).toBe('posts-2');
    expect(routeIdFor(c, 'tags')).toBe('tags');
  });

  it('renames a resource and moves its route along', () => {
    const c = base();
    const form = { ...formFromResource(users, routeOf(c, 'users')), name: 'people', path: '/people' };
    const change = applyResource(c, form, 'users');
    expect(change.config.resources?.map((r) => r.name)).toEqual(['people']);
    expect(change.config.routes[1]).toEqual({ id: 'users', path: '/people', kind: 'resource', resource: 'people' });
    expect(change.routeIndex).toBe(1);
  });

  it('removes the route when no longer exposed', () => {
    const c = base();
    const change = applyResource(c, { ...formFromResource(users, routeOf(c, 'users')), expose: false }, 'users');
    expect(change.config.routes.map((r) => r.id)).toEqual(['hello']);
    expect(change.routeIndex).toBe(-1);
    expect(change.route).toBeUndefined();
  });

  it('removes a resource with its routes', () => {
    const c = removeResource(base(), 'users');
    expect(c.resources).toEqual([]);
    expect(c.routes.map((r) => r.id)).toEqual(['hello']);
  });

  it('describes the change for the diff', () => {
    expect(changeDocument(undefined)).toBeUndefined();
    expect(changeDocument(users)).toEqual({ resource: users });
  });
});

describe('resourceErrorsFor', () => {
  it('puts each error next to its field', () => {
    const { fields, other } = resourceErrorsFor(
      [
        { path: 'resources[1].name', message: 'name is required' },
        { path: 'resources[1].fields[2].type', message: 'unknown type "num"' },
        { path: 'resources[1].fields[0].enum[1]', message: 'want a string' },
        { path: 'resources[1].fields', message: 'a resource needs at least one field' },
        { path: 'routes[3].path', message: 'a resource path is a plain prefix' },
        { path: 'resources[0].name', message: 'someone else' },
        { path: 'routes[0].path', message: 'another route' },
        { path: '', message: 'the document' },
      ],
      1,
      3,
    );
    expect(fields).toEqual({
      name: 'name is required',
      'fields.2.type': 'unknown type "num"',
      'fields.0.enum': 'want a string',
      fields: 'a resource needs at least one field',
      path: 'a resource path is a plain prefix',
    });
    expect(other).toEqual(['resources[0].name: someone else', 'routes[0].path: another route', 'the document']);
  });

  it('leaves route errors alone when the resource is not exposed', () => {
    expect(resourceErrorsFor([{ path: 'routes[0].path', message: 'x' }], 0, -1).other).toHaveLength(1);
  });
});
