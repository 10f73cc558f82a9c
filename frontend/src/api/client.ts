// The only code that calls the admin API over HTTP (docs/admin-api.md).
import type { Connection } from '../platform';
import type {
  BackupManifest,
  BackupReport,
  BackupRequest,
  BackupsConfig,
  BackupsOverview,
  BenchComparison,
  BenchRun,
  BenchStart,
  BenchSummary,
  Config,
  ConfigChange,
  ConfigError,
  ConfigVersion,
  DatabaseStatus,
  FieldError,
  ForceRequest,
  GenerateRequest,
  GeneratedMigration,
  Info,
  KeyInfo,
  KeysOverview,
  MetricSample,
  MigrationReport,
  MigrationRequest,
  MigrationsStatus,
  MintRequest,
  MintedToken,
  Plan,
  QueryEvent,
  QueryStat,
  RequestEvent,
  RestoreReport,
  RestoreRequest,
  ResultSet,
  RevokedToken,
  RotationConfig,
  Route,
  RouteTable,
  SQLRequest,
  Signals,
  TokenInspection,
  TryRequest,
  TryResponse,
} from './types.gen';

/** An admin API answer other than 2xx, with the problem's detail and, for
 * invalid input, every problem with its JSON path. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Fetch = typeof fetch;

export class ApiClient {
  constructor(
    private readonly conn: Connection,
    private readonly fetcher: Fetch = (...a) => fetch(...a),
  ) {}

  /** Headers and credentials for a request: the bearer token when the
   * shell has one (desktop), else the same-origin session cookie. */
  init(extra: RequestInit = {}): RequestInit {
    const headers = new Headers(extra.headers);
    if (this.conn.token) headers.set('Authorization', `Bearer ${this.conn.token}`);
    return { ...extra, headers, credentials: this.conn.token ? 'omit' : 'same-origin' };
  }

  /** Sends a request and returns the 2xx answer; anything else is thrown
   * as an ApiError. */
  private async call(method: string, path: string, body?: unknown, etag?: string, accept: readonly number[] = []): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (etag) headers['If-Match'] = etag;
    let res: Response;
    try {
      res = await this.fetcher(
        this.conn.url + path,
        this.init({ method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
      );
    } catch {
      throw new ApiError(0, `the server at ${this.conn.url} is unreachable`);
    }
    if (!res.ok && !accept.includes(res.status)) {
      let detail = res.statusText;
      let errors: FieldError[] = [];
      try {
        const p = await res.json();
        detail = p.detail || p.title || detail;
        errors = p.errors ?? [];
      } catch {
        /* not problem+json */
      }
      throw new ApiError(res.status, detail, errors);
    }
    return res;
  }

  private async send<T>(method: string, path: string, body?: unknown, etag?: string): Promise<{ data: T; etag: string }> {
    const res = await this.call(method, path, body, etag);
    // 204 No Content has no body to parse.
    const data = res.status === 204 ? undefined : await res.json();
    return { data: data as T, etag: res.headers.get('ETag') ?? '' };
  }

  private async get<T>(path: string): Promise<T> {
    return (await this.send<T>('GET', path)).data;
  }

  /** A POST whose refusal (422) still answers with its report: the report
   * either way, told apart by its own fields. A 422 without one (a
   * problem) is thrown like any other. */
  private async report<T extends object>(path: string, body: unknown, field: string): Promise<T> {
    const res = await this.call('POST', path, body, undefined, [422]);
    let data: unknown = null;
    try {
      data = await res.json();
    } catch {
      /* no body */
    }
    if (res.ok || (data && typeof data === 'object' && field in data)) return data as T;
    const p = (data ?? {}) as { detail?: string; title?: string; errors?: FieldError[] };
    throw new ApiError(res.status, p.detail || p.title || res.statusText, p.errors ?? []);
  }

  info = () => this.get<Info>('/_covet/api/info');
  requests = (limit: number) => this.get<RequestEvent[]>(`/_covet/api/requests?limit=${limit}`);
  series = () => this.get<MetricSample[]>('/_covet/api/metrics/series');
  /** What the server serves: Go and configured routes, middleware, named handlers. */
  routes = () => this.get<RouteTable>('/_covet/api/routes');

  /** The whole configuration and its ETag. */
  async config(): Promise<{ config: Config; etag: string }> {
    const { data, etag } = await this.send<Config>('GET', '/_covet/api/config');
    return { config: data, etag };
  }
  addRoute = async (route: Route, etag: string) =>
    (await this.send<ConfigChange>('POST', '/_covet/api/config/routes', route, etag)).data;
  putRoute = async (id: string, route: Route, etag: string) =>
    (await this.send<ConfigChange>('PUT', `/_covet/api/config/routes/${encodeURIComponent(id)}`, route, etag)).data;
  deleteRoute = async (id: string, etag: string) =>
    (await this.send<ConfigChange>('DELETE', `/_covet/api/config/routes/${encodeURIComponent(id)}`, undefined, etag)).data;
  /** Dry run of a whole configuration: resolves when valid, throws an
   * ApiError with fieldErrors when not. */
  validate = async (config: Config) => (await this.send<ConfigChange>('POST', '/_covet/api/config/validate', config)).data;
  /** Replaces the whole configuration, for changes that span sections
   * (a resource and the route that serves it). */
  putConfig = async (config: Config, etag: string) => (await this.send<ConfigChange>('PUT', '/_covet/api/config', config, etag)).data;
  history = () => this.get<ConfigVersion[]>('/_covet/api/config/history');
  /** The problems of an edit of covet.json on disk that was not applied
   * (none when the file holds what is served). */
  configFile = () => this.get<ConfigError>('/_covet/api/config/file');
  undo = async () => (await this.send<ConfigChange>('POST', '/_covet/api/config/undo', undefined)).data;
  tryIt = async (req: TryRequest) => (await this.send<TryResponse>('POST', '/_covet/api/try', req)).data;

  /** The database: dialect, redacted DSN, pools, ping. */
  database = () => this.get<DatabaseStatus>('/_covet/api/database');
  /** Recent executed statements, newest first (limit 1..1000). */
  queries = (limit: number) => this.get<QueryEvent[]>(`/_covet/api/queries?limit=${limit}`);
  /** Per-fingerprint statistics, the most total time first. */
  queryStats = () => this.get<QueryStat[]>('/_covet/api/queries/stats');
  resetQueryStats = async () => void (await this.send<void>('DELETE', '/_covet/api/queries/stats'));
  /** A statement's plan; with analyze it really runs, in a transaction
   * that is rolled back. SQL errors are ApiErrors with status 422. */
  explain = async (req: SQLRequest) => (await this.send<Plan>('POST', '/_covet/api/queries/explain', req)).data;
  /** Runs one statement from the SQL console: reads only unless write. */
  sql = async (req: SQLRequest) => (await this.send<ResultSet>('POST', '/_covet/api/sql', req)).data;

  /** Schema migrations: each one's state, SQL and lint warnings, and the
   * problems that block every run. A 409 when the migration files have
   * problems: fieldErrors name each file. */
  migrations = () => this.get<MigrationsStatus>('/_covet/api/migrations');
  /** Applies or rolls back migrations, or with dryRun only plans and lints
   * them. 409: destructive statements without force (fieldErrors "file:line")
   * or a history that blocks runs; 422: a statement failed (the message names
   * it and says whether it was rolled back); 400: a request that makes no sense. */
  runMigrations = async (req: MigrationRequest) => (await this.send<MigrationReport>('POST', '/_covet/api/migrations/run', req)).data;
  /** Proposes the migration that brings the database to the resources
   * (without them: the running configuration's); with write it saves it as
   * the next NNNN_name.up.sql and .down.sql and answers their names. 400 for
   * an empty draft or a bad name when writing. */
  generateMigration = async (req: GenerateRequest) =>
    (await this.send<GeneratedMigration>('POST', '/_covet/api/migrations/generate', req)).data;
  /** Records that exactly the migrations up to version are applied and
   * clears a dirty state; no migration SQL runs. */
  forceMigration = async (version: number) =>
    (await this.send<MigrationsStatus>('POST', '/_covet/api/migrations/force', { version } satisfies ForceRequest)).data;

  /** Backups of the SQLite database: the list (newest first), the
   * continuous archive of the write-ahead log and the RPO, the restore
   * window, the schedule and what it did; supported false (with the
   * reason) for PostgreSQL and MySQL. */
  backups = () => this.get<BackupsOverview>('/_covet/api/backups');
  /** Makes a full backup now (201). */
  createBackup = async (req: BackupRequest) => (await this.send<BackupManifest>('POST', '/_covet/api/backups', req)).data;
  /** Checks a backup: its report, ok false (the server's 422) when a check
   * failed. */
  verifyBackup = (id: string) => this.report<BackupReport>(`/_covet/api/backups/${encodeURIComponent(id)}/verify`, undefined, 'checks');
  /** Deletes a backup: 409 for the base the archive is being written into. */
  deleteBackup = async (id: string) => void (await this.send<void>('DELETE', `/_covet/api/backups/${encodeURIComponent(id)}`));
  /** Restores a backup (id) or a moment (to) into the running database,
   * keeping its content before as a new backup; with dryRun only the plan.
   * A report with restored false (the server's 422) when the restored copy
   * failed verification: nothing was replaced. 409: the moment is outside
   * what the archive reaches (the message says why). */
  restoreBackup = (req: RestoreRequest) => this.report<RestoreReport>('/_covet/api/backups/restore', req, 'plan');
  /** Sets covet.json's backups section: the schedule and the retention
   * (400 with JSON paths when invalid, 412 when the ETag is stale). */
  putBackupsConfig = async (section: BackupsConfig, etag: string) =>
    (await this.send<ConfigChange>('PUT', '/_covet/api/config/backups', section, etag)).data;

  /** Signing keys, the JWKS, the key store and the token settings. */
  keys = () => this.get<KeysOverview>('/_covet/api/keys');
  /** Creates a standby key of alg (EdDSA, ES256, RS256 or HS256). */
  generateKey = async (alg: string) => (await this.send<KeyInfo>('POST', '/_covet/api/keys', { alg })).data;
  /** Moves a key: 404 for an unknown kid, 409 when its state forbids the move. */
  moveKey = async (kid: string, action: 'promote' | 'retire' | 'revoke') =>
    (await this.send<KeyInfo>('POST', `/_covet/api/keys/${encodeURIComponent(kid)}/${action}`)).data;
  /** Signs a token with the current key (409 when there is none). */
  mintToken = async (req: MintRequest) => (await this.send<MintedToken>('POST', '/_covet/api/tokens', req)).data;
  /** Decodes a token and says whether the server accepts it, and why not. */
  inspectToken = async (token: string) => (await this.send<TokenInspection>('POST', '/_covet/api/tokens/inspect', { token })).data;
  /** Refuses one token, by its jti, until it expires. */
  revokeToken = async (token: string) => (await this.send<RevokedToken>('POST', '/_covet/api/tokens/revoke', { token })).data;
  /** Sets covet.json's auth.rotation (400 with JSON paths when invalid). */
  putRotation = async (rotation: RotationConfig, etag: string) =>
    (await this.send<ConfigChange>('PUT', '/_covet/api/config/auth/rotation', rotation, etag)).data;
  /** Removes auth.rotation: keys rotate only by hand. */
  deleteRotation = async (etag: string) => (await this.send<ConfigChange>('DELETE', '/_covet/api/config/auth/rotation', undefined, etag)).data;

  /** Load tests, newest first. */
  benchRuns = () => this.get<BenchSummary[]>('/_covet/api/bench/runs');
  /** Starts a load test: 201 with the run "running"; 409 while another
   * runs; 400 with the spec's JSON paths when it is invalid. */
  startBench = async (req: BenchStart) => (await this.send<BenchRun>('POST', '/_covet/api/bench/runs', req)).data;
  /** A run; a running one carries its series so far. */
  benchRun = (id: string) => this.get<BenchRun>(`/_covet/api/bench/runs/${encodeURIComponent(id)}`);
  renameBench = async (id: string, name: string) =>
    (await this.send<BenchRun>('PATCH', `/_covet/api/bench/runs/${encodeURIComponent(id)}`, { name })).data;
  /** Deletes a stored run (409 while it runs). */
  deleteBench = async (id: string) => void (await this.send<void>('DELETE', `/_covet/api/bench/runs/${encodeURIComponent(id)}`));
  /** Stops a run; its final state follows as a bench.finished event. */
  cancelBench = async (id: string) => (await this.send<BenchRun>('POST', `/_covet/api/bench/runs/${encodeURIComponent(id)}/cancel`)).data;
  /** B against A, metric by metric, with the ratios the server computed. */
  compareBench = (a: string, b: string) =>
    this.get<BenchComparison>(`/_covet/api/bench/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  /** A run as a file (json, csv or a self-contained html report), with
   * the name the server gives it. */
  async exportBench(id: string, format: 'json' | 'csv' | 'html'): Promise<{ blob: Blob; filename: string }> {
    const res = await this.call('GET', `/_covet/api/bench/runs/${encodeURIComponent(id)}/export?format=${format}`);
    return { blob: await res.blob(), filename: attachmentName(res.headers.get('Content-Disposition')) || `bench-${id}.${format}` };
  }
  /** The server's own per-second signals of the last 5 minutes, oldest first. */
  signals = () => this.get<Signals[]>('/_covet/api/signals');

  /** The event stream's URL and WebSocket subprotocols. */
  streamTarget(): { url: string; protocols: string[] } {
    const url = this.conn.url.replace(/^http/, 'ws') + '/_covet/api/events';
    const protocols = ['covet.v1'];
    if (this.conn.token) protocols.push('covet.token.' + this.conn.token);
    return { url, protocols };
  }
}

/** The file name of a Content-Disposition: attachment header ('' when
 * it has none): filename*=UTF-8''… first, else filename="…" or a bare
 * token. */
export function attachmentName(header: string | null): string {
  if (!header) return '';
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall back to filename= */
    }
  }
  const quoted = /filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  if (quoted) return quoted[1].replace(/\\(.)/g, '$1');
  return /filename\s*=\s*([^;\s]+)/i.exec(header)?.[1] ?? '';
}
