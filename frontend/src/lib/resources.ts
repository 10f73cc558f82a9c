// The Resources page's model: a form for one resource and its fields, the
// configuration it makes (the resource and, when exposed, the route that
// serves it), and the mapping of the server's errors onto the form.
import type { Config, FieldError, ResourceDefinition, ResourceField, Route } from '../api/types.gen';

export const FIELD_TYPES = ['string', 'text', 'int', 'float', 'bool', 'time'] as const;

export interface FieldForm {
  name: string;
  type: string;
  required: boolean;
  unique: boolean;
  /** Values redacted in query events. */
  sensitive: boolean;
  maxLength: string;
  /** The default as typed; converted to the field's type. */
  default: string;
  /** Allowed values, comma-separated. */
  enum: string;
}

export interface ResourceForm {
  name: string;
  /** Blank means the same as the name. */
  table: string;
  fields: FieldForm[];
  /** Serve the resource at path (a route of kind resource); a blank path
   * means /<name>. */
  expose: boolean;
  path: string;
}

export const newField = (): FieldForm => ({ name: '', type: 'string', required: false, unique: false, sensitive: false, maxLength: '', default: '', enum: '' });

const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The route that serves resource name, if any. */
export function routeOf(config: Config, name: string): Route | undefined {
  return config.routes.find((r) => r.kind === 'resource' && r.resource === name);
}

export function formFromResource(def?: ResourceDefinition, route?: Route): ResourceForm {
  if (!def) return { name: '', table: '', fields: [{ ...newField(), name: 'name', required: true }], expose: true, path: '' };
  return {
    name: def.name,
    table: def.table !== def.name ? def.table : '',
    fields: def.fields.map((f) => ({
      name: f.name,
      type: f.type,
      required: !!f.required,
      unique: !!f.unique,
      sensitive: !!f.sensitive,
      maxLength: f.maxLength ? String(f.maxLength) : '',
      default: f.default === undefined || f.default === null ? '' : text(f.default),
      enum: (f.enum ?? []).map(text).join(', '),
    })),
    expose: !!route,
    path: route?.path ?? `/${def.name}`,
  };
}

/** A value typed into the form, as the field's type wants it. What does not
 * convert is sent as typed, so that the server's validator names it. */
export function typedValue(s: string, type: string): unknown {
  const t = s.trim();
  switch (type) {
    case 'int':
    case 'float':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
    case 'bool':
      return t === 'true' ? true : t === 'false' ? false : t;
    case 'time':
      return t;
  }
  return s;
}

export function fieldFromForm(f: FieldForm): ResourceField {
  const out: ResourceField = { name: f.name.trim(), type: f.type };
  if (f.required) out.required = true;
  if (f.unique) out.unique = true;
  if (f.sensitive) out.sensitive = true;
  const max = f.maxLength.trim();
  if (max) out.maxLength = Number.isFinite(Number(max)) ? Number(max) : (max as unknown as number);
  if (f.default.trim() !== '') out.default = typedValue(f.default, f.type);
  const values = f.enum
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (values.length) out.enum = values.map((v) => typedValue(v, f.type));
  return out;
}

export function resourceFromForm(f: ResourceForm): ResourceDefinition {
  const name = f.name.trim();
  return { name, table: f.table.trim() || name, fields: f.fields.map(fieldFromForm) };
}

/** A route id for a new resource route: the resource's name unless another
 * route has it. */
export function routeIdFor(config: Config, name: string, keep?: Route): string {
  const taken = (id: string) => config.routes.some((r) => r.id === id && r !== keep);
  if (!taken(name)) return name;
  for (let i = 2; ; i++) if (!taken(`${name}-${i}`)) return `${name}-${i}`;
}

/** A route of kind resource: it has no method (it serves GET and POST at
 * path and GET, PUT, PATCH and DELETE at path/{id}). */
export function resourceRoute(id: string, path: string, resource: string, base?: Route): Route {
  const r = { ...(base?.policy ? { policy: base.policy } : {}), id, path, kind: 'resource', resource };
  return r as Route; // the generated type requires a method this kind must not have
}

export interface ResourceChange {
  config: Config;
  /** Where the resource and its route are in config (route -1 when not exposed). */
  resourceIndex: number;
  routeIndex: number;
  resource: ResourceDefinition;
  route?: Route;
}

/** The configuration with the form's resource in place of original (or
 * added), and its route added, updated or removed to match the form. */
export function applyResource(config: Config, form: ResourceForm, original?: string): ResourceChange {
  const resource = resourceFromForm(form);
  const resources = [...(config.resources ?? [])];
  let resourceIndex = original === undefined ? -1 : resources.findIndex((r) => r.name === original);
  if (resourceIndex < 0) resourceIndex = resources.push(resource) - 1;
  else resources[resourceIndex] = resource;

  const routes = [...config.routes];
  const old = original === undefined ? undefined : routeOf(config, original);
  let routeIndex = old ? routes.indexOf(old) : -1;
  let route: Route | undefined;
  if (form.expose) {
    route = resourceRoute(old?.id ?? routeIdFor(config, resource.name), form.path.trim() || `/${resource.name}`, resource.name, old);
    if (routeIndex < 0) routeIndex = routes.push(route) - 1;
    else routes[routeIndex] = route;
  } else if (routeIndex >= 0) {
    routes.splice(routeIndex, 1);
    routeIndex = -1;
  }
  return { config: { ...config, resources, routes }, resourceIndex, routeIndex, resource, route };
}

/** The configuration without resource name and the routes that serve it. */
export function removeResource(config: Config, name: string): Config {
  return {
    ...config,
    resources: (config.resources ?? []).filter((r) => r.name !== name),
    routes: config.routes.filter((r) => !(r.kind === 'resource' && r.resource === name)),
  };
}

/** Sorts the server's errors onto the form: keys are "name", "table",
 * "fields", "fields.<i>.<name|type|required|unique|sensitive|maxLength|default|enum>"
 * and "path" (the route); the rest come back in other. */
export function resourceErrorsFor(errors: FieldError[], resourceIndex: number, routeIndex: number): { fields: Record<string, string>; other: string[] } {
  const fields: Record<string, string> = {};
  const other: string[] = [];
  const res = `resources[${resourceIndex}]`;
  const rt = `routes[${routeIndex}]`;
  for (const e of errors) {
    let key: string | undefined;
    if (e.path === res || e.path.startsWith(res + '.')) {
      const rest = e.path.slice(res.length + 1);
      const m = /^fields\[(\d+)\]\.(\w+)/.exec(rest);
      if (m) key = `fields.${m[1]}.${m[2]}`;
      else if (/^fields\[(\d+)\]$/.test(rest)) key = `fields.${rest.slice(7, -1)}.name`;
      else if (['name', 'table', 'fields'].includes(rest)) key = rest;
    } else if (routeIndex >= 0 && (e.path === rt || e.path.startsWith(rt + '.'))) {
      key = 'path';
    }
    if (key && !fields[key]) fields[key] = e.message;
    else other.push(e.path ? `${e.path}: ${e.message}` : e.message);
  }
  return { fields, other };
}

/** A resource and its route as the diff preview shows them. */
export function changeDocument(resource?: ResourceDefinition, route?: Route): unknown {
  if (!resource) return undefined;
  return route ? { resource, route } : { resource };
}
