// Code generated from the Go types of embedded-server/internal/admin by `make types`; DO NOT EDIT.
// The admin API contract is docs/admin-api.md.

export interface ConfigChange {
  version: number;
  etag: string;
  source: string;
  restartRequired: string[];
  dryRun: boolean;
}

export interface ConfigError {
  source: string;
  errors: FieldError[];
}

export interface ConfigVersion {
  version: number;
  time: string /* RFC 3339 */;
  etag: string;
  source: string;
  parent: number;
  routes: number;
}

export interface DatabaseInfo {
  driver: string;
  dsn: string;
}

export interface DroppedEvent {
  count: number;
}

export interface Event {
  type: string;
  seq: number;
  time: string /* RFC 3339 */;
  data: unknown;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Info {
  version: string;
  goVersion: string;
  project: string;
  url: string;
  startedAt: string /* RFC 3339 */;
  uptimeSeconds: number;
  database: DatabaseInfo;
  studioClients: number;
}

export interface MetricSample {
  time: string /* RFC 3339 */;
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RequestEvent {
  id: string;
  time: string /* RFC 3339 */;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  bytes: number;
  remoteAddr: string;
}

export interface TryRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface TryResponse {
  status: number;
  headers: Record<string, string[]>;
  body: string;
  truncated: boolean;
  binary: boolean;
  durationMs: number;
  requestId: string;
}
