// Code generated from the Go types of embedded-server/internal/admin by `make types`; DO NOT EDIT.
// The admin API contract is docs/admin-api.md.

export interface ArchiveInfo {
  base: BackupManifest;
  segments: number;
  commits: number;
  lastCommit?: string /* RFC 3339 */ | null;
  from: string /* RFC 3339 */;
  until: string /* RFC 3339 */;
  closed: boolean;
  problem?: string;
}

export interface ArchiveStatus {
  base: string;
  segments: number;
  commits: number;
  syncedAt: string /* RFC 3339 */;
  unarchived?: string /* RFC 3339 */ | null;
  untimed?: number;
  lastError?: string;
  errorAt?: string /* RFC 3339 */ | null;
}

export interface AuthConfig {
  issuer: string;
  audience: string;
  leeway?: string /* Go duration: "250ms", "5s" */;
  accessTTL?: string /* Go duration: "250ms", "5s" */;
  refreshTTL?: string /* Go duration: "250ms", "5s" */;
  rotation?: RotationConfig | null;
}

export interface AuthPolicy {
  required: boolean;
  roles?: string[];
  scopes?: string[];
  source?: string;
  cookie?: string;
}

export interface BackupCheck {
  name: string;
  file?: string;
  status: string;
  detail?: string;
}

export interface BackupFile {
  name: string;
  size: number;
  sha256: string;
  plainSize: number;
  plainSha256: string;
}

export interface BackupManifest {
  format: number;
  id: string;
  kind: string;
  dialect: string;
  createdAt: string /* RFC 3339 */;
  source: string;
  files: BackupFile[];
  encrypted: boolean;
  keyId?: string;
  chunkSize?: number;
  seal?: string;
}

export interface BackupReport {
  id: string;
  ok: boolean;
  checks: BackupCheck[];
}

export interface BackupRequest {
  encrypt?: boolean;
}

export interface BackupSchedule {
  cron: string;
  keep: number;
  maxAge: string;
  encrypt: boolean;
  next?: string /* RFC 3339 */ | null;
  lastRun?: string /* RFC 3339 */ | null;
  lastError?: string;
  lastPruned?: string[];
}

export interface BackupSkipped {
  name: string;
  reason: string;
}

export interface BackupVerification {
  at: string /* RFC 3339 */;
  ok: boolean;
  failed?: string;
}

export interface BackupsConfig {
  schedule?: string;
  keep?: number;
  maxAge?: string /* Go duration: "250ms", "5s" */;
  encrypt?: boolean;
  archivePostgres?: boolean | null;
}

export interface BackupsOverview {
  supported: boolean;
  reason?: string;
  database?: string;
  backups: BackupManifest[];
  verifications: Record<string, BackupVerification>;
  incomplete: BackupSkipped[];
  lastBackupAt?: string /* RFC 3339 */ | null;
  rpoSeconds?: number | null;
  archive?: ArchiveStatus | null;
  archives: ArchiveInfo[];
  window?: RestoreWindow | null;
  schedule: BackupSchedule;
}

export interface BenchComparison {
  a: BenchSummary;
  b: BenchSummary;
  rows: ComparisonRow[];
}

export interface BenchConfig {
  allowHosts?: string[];
}

export interface BenchProgress {
  id: string;
  progress: LoadProgress;
  signals: Signals;
}

export interface BenchRun {
  id: string;
  name: string;
  status: string;
  source: string;
  spec: LoadSpec;
  startedAt: string /* RFC 3339 */;
  endedAt: string /* RFC 3339 */ | null;
  version: string;
  configHash: string;
  error?: string;
  result: LoadResult | null;
  signals: Signals[];
}

export interface BenchStart extends LoadSpec {
  source?: string;
}

export interface BenchSummary {
  id: string;
  name: string;
  status: string;
  source: string;
  method: string;
  url: string;
  model: string;
  connections: number;
  rate: number;
  startedAt: string /* RFC 3339 */;
  endedAt: string /* RFC 3339 */ | null;
  requests: number;
  rps: number;
  errors: number;
  p50: number;
  p99: number;
}

export interface CORSPolicy {
  allowOrigins: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  allowCredentials?: boolean;
  maxAge?: string /* Go duration: "250ms", "5s" */;
}

export interface CSRFPolicy {
  trustedOrigins?: string[];
}

export interface CachePolicy {
  maxAge?: string /* Go duration: "250ms", "5s" */;
  public?: boolean;
  noStore?: boolean;
}

export interface ComparisonRow {
  metric: string;
  label: string;
  unit: string;
  a: number;
  b: number;
  ratio: number | null;
  better: string;
}

export interface CompressPolicy {
  minSize?: number;
  contentTypes?: string[];
  level?: string;
}

export interface Config {
  server: ServerConfig;
  database: DatabaseConfig;
  auth: AuthConfig;
  bench?: BenchConfig;
  backups?: BackupsConfig;
  resources?: ResourceDefinition[];
  routes: Route[];
}

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

export interface DatabaseConfig {
  primary: string;
  replicas?: string[];
  slowQuery?: string /* Go duration: "250ms", "5s" */;
  nPlusOneThreshold?: number;
  pool?: PoolConfig;
}

export interface DatabaseInfo {
  driver: string;
  dsn: string;
}

export interface DatabaseStatus {
  dialect: string;
  dsn: string;
  pools: PoolStatus[];
  error?: string;
  pingMs: number;
  slowQueryMs: number;
  nPlusOneThreshold: number;
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

export interface ForceRequest {
  version: number;
}

export interface GenerateRequest {
  resources?: ResourceDefinition[];
  write?: boolean;
  name?: string;
}

export interface GeneratedMigration extends MigrationDraft {
  upFile?: string;
  downFile?: string;
}

export interface HandlerInfo {
  name: string;
  source: string;
}

export interface HandlerRoute {
  name: string;
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

export interface JWK {
  kty: string;
  kid: string;
  alg: string;
  use: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
}

export interface JWKSet {
  keys: JWK[];
}

export interface KeyInfo {
  kid: string;
  alg: string;
  state: string;
  created: string /* RFC 3339 */;
  activated?: string /* RFC 3339 */ | null;
  retired?: string /* RFC 3339 */ | null;
  revoked?: string /* RFC 3339 */ | null;
  signed: number;
}

export interface KeyRotation {
  every: string;
  alg: string;
  next?: string /* RFC 3339 */ | null;
}

export interface KeyStoreInfo {
  path: string;
  kek: string;
  warning?: string;
}

export interface KeysOverview {
  keys: KeyInfo[];
  jwks: JWKSet;
  jwksUrl: string;
  store: KeyStoreInfo;
  issuer: string;
  audience: string;
  leeway: string;
  accessTTL: string;
  refreshTTL: string;
  rotation?: KeyRotation | null;
}

export interface Latency {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LatencyBucket {
  upToMs: number;
  count: number;
}

export interface LintWarning {
  statement: number;
  line: number;
  rule: string;
  message: string;
}

export interface LoadHeader {
  name: string;
  value: string;
}

export interface LoadParam {
  name: string;
  values?: string[];
  min?: number;
  max?: number;
}

export interface LoadProgress {
  warmup: boolean;
  elapsed: number;
  second: LoadSecond;
  requests: number;
  errors: number;
  backlog: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  errors: number;
  bytes: number;
  durationSeconds: number;
  latencyMs: Latency;
  latencyCorrectedMs?: Latency | null;
  status: Record<string, number>;
  errorKinds: Record<string, number>;
  targetRate?: number;
  stopped: string;
  series: LoadSecond[];
  histogram: LatencyBucket[];
  hdr: string;
}

export interface LoadSecond {
  t: number;
  requests: number;
  errors: number;
  bytes: number;
  latencyMs: Latency;
  targetRate?: number;
}

export interface LoadSpec {
  name?: string;
  kind?: string;
  method?: string;
  url: string;
  headers?: LoadHeader[];
  body?: string;
  params?: LoadParam[];
  http2?: boolean;
  auth?: TokenSpec | null;
  connections?: number;
  rate?: number;
  ramp?: LoadStage[];
  thinkTime?: string /* Go duration: "250ms", "5s" */;
  duration: string /* Go duration: "250ms", "5s" */;
  warmup?: string /* Go duration: "250ms", "5s" */;
  timeout?: string /* Go duration: "250ms", "5s" */;
  maxRequests?: number;
}

export interface LoadStage {
  rate: number;
  duration: string /* Go duration: "250ms", "5s" */;
}

export interface MetricSample extends RouteSample {
  time: string /* RFC 3339 */;
  routes?: Record<string, RouteSample>;
}

export interface MigrationDraft {
  up: string[];
  down: string[];
  notes: string[];
}

export interface MigrationReport {
  dryRun: boolean;
  steps: MigrationStep[];
  current: number;
}

export interface MigrationRequest {
  action: string;
  steps?: number;
  version?: number;
  force?: boolean;
  dryRun?: boolean;
}

export interface MigrationStatus {
  version: number;
  name: string;
  state: string;
  upFile?: string;
  downFile?: string;
  go?: boolean;
  appliedAt?: string /* RFC 3339 */ | null;
  durationMs?: number;
  edited?: boolean;
  failedStatement?: number;
  error?: string;
  up: SQLStatement[];
  down: SQLStatement[];
  upWarnings: LintWarning[];
  downWarnings: LintWarning[];
}

export interface MigrationStep {
  version: number;
  name: string;
  direction: string;
  file?: string;
  go?: boolean;
  statements: SQLStatement[];
  warnings: LintWarning[];
  outcome?: string;
  durationMs?: number;
}

export interface MigrationsStatus {
  dialect: string;
  table: string;
  current: number;
  pending: number;
  migrations: MigrationStatus[];
  problems: string[];
}

export interface MintRequest {
  sub: string;
  roles?: string[];
  scope?: string;
  aud?: string;
  ttl?: string;
  type?: string;
  claims?: Record<string, unknown>;
}

export interface MintedToken {
  token: string;
  kid: string;
  jti: string;
  expires: string /* RFC 3339 */;
}

export interface Mock {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  delay?: string /* Go duration: "250ms", "5s" */;
}

export interface Plan {
  dialect: string;
  analyzed: boolean;
  nodes: PlanNode[];
  raw: string;
}

export interface PlanNode {
  label: string;
  detail?: string;
  rows?: number;
  cost?: number;
  actualRows?: number;
  actualMs?: number;
  fullScan: boolean;
  children?: PlanNode[];
}

export interface Policy {
  timeout?: string /* Go duration: "250ms", "5s" */;
  rateLimit?: RateLimitPolicy | null;
  bodyLimit?: number;
  cors?: CORSPolicy | null;
  cache?: CachePolicy | null;
  compress?: CompressPolicy | null;
  csrf?: CSRFPolicy | null;
  auth?: AuthPolicy | null;
}

export interface PoolConfig {
  maxConns?: number;
  minConns?: number;
  maxConnLifetime?: string /* Go duration: "250ms", "5s" */;
  maxConnIdleTime?: string /* Go duration: "250ms", "5s" */;
}

export interface PoolStats {
  maxOpen: number;
  open: number;
  inUse: number;
  idle: number;
  waitCount: number;
  waitDurationNs: number;
}

export interface PoolStatus extends PoolStats {
  name: string;
}

export interface Proxy {
  upstream: string;
  stripPrefix?: string;
  rewrite?: string;
  timeout?: string /* Go duration: "250ms", "5s" */;
  setHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
}

export interface QueryEvent {
  fingerprint: string;
  sql: string;
  args: unknown[];
  time: string /* RFC 3339 */;
  durationMs: number;
  rows: number;
  error?: string;
  caller: string;
  dialect: string;
  txId?: number;
  replica?: boolean;
  requestId: string;
  route: string;
  slow: boolean;
  nPlusOne: boolean;
  verdict?: Verdict | null;
}

export interface QueryStat {
  fingerprint: string;
  count: number;
  errors: number;
  rows: number;
  totalMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RateLimitPolicy {
  rate: number;
  per: string /* Go duration: "250ms", "5s" */;
  burst?: number;
  key?: string;
}

export interface Redirect {
  to: string;
  status?: number;
}

export interface RequestEvent {
  id: string;
  time: string /* RFC 3339 */;
  method: string;
  path: string;
  route: string;
  status: number;
  durationMs: number;
  bytes: number;
  remoteAddr: string;
}

export interface ResourceDefinition {
  name: string;
  table: string;
  fields: ResourceField[];
}

export interface ResourceField {
  name: string;
  type: string;
  required?: boolean;
  unique?: boolean;
  default?: unknown;
  maxLength?: number;
  enum?: unknown[];
  sensitive?: boolean;
}

export interface RestoreFileState {
  size: number;
  modTime: string /* RFC 3339 */;
  sidecars?: string[];
}

export interface RestoreReport {
  backup: BackupManifest;
  to?: string /* RFC 3339 */ | null;
  target: string;
  dryRun: boolean;
  current?: RestoreFileState | null;
  keptAs?: string;
  keptBackup?: string;
  plan: string[];
  verify?: BackupReport | null;
  restored: boolean;
}

export interface RestoreRequest {
  to?: string /* RFC 3339 */ | null;
  id?: string;
  dryRun?: boolean;
}

export interface RestoreWindow {
  from: string /* RFC 3339 */;
  until: string /* RFC 3339 */;
}

export interface ResultSet {
  columns: string[];
  rows: unknown[][];
  truncated?: boolean;
}

export interface RevokedToken {
  jti: string;
  until: string /* RFC 3339 */;
}

export interface RotationConfig {
  every: string /* Go duration: "250ms", "5s" */;
  alg?: string;
}

export interface Route {
  id: string;
  method: string;
  path: string;
  kind: string;
  handler?: HandlerRoute | null;
  mock?: Mock | null;
  redirect?: Redirect | null;
  static?: Static | null;
  proxy?: Proxy | null;
  resource?: string;
  policy?: Policy | null;
}

export interface RouteInfo {
  method: string;
  path: string;
  kind: string;
  id?: string;
  handler?: string;
  source: string;
  handlerSource?: string;
  middleware: string[];
}

export interface RouteSample {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RouteTable {
  stack: string[];
  routes: RouteInfo[];
  handlers: HandlerInfo[];
}

export interface SQLRequest {
  sql: string;
  args: unknown[];
  analyze?: boolean;
  write?: boolean;
}

export interface SQLStatement {
  sql: string;
  line: number;
}

export interface ServerConfig {
  listen: string;
  readHeaderTimeout?: string /* Go duration: "250ms", "5s" */;
  readTimeout?: string /* Go duration: "250ms", "5s" */;
  writeTimeout?: string /* Go duration: "250ms", "5s" */;
  idleTimeout?: string /* Go duration: "250ms", "5s" */;
  shutdownTimeout?: string /* Go duration: "250ms", "5s" */;
  maxHeaderBytes?: number;
  trailingSlash?: string;
  trustedProxies?: string[];
  accessLog?: string;
  securityHeaders?: string;
  tls?: TLSConfig | null;
  h2c?: boolean;
}

export interface Signals {
  time: string /* RFC 3339 */;
  requests: number;
  errors: number;
  rateLimited: number;
  queries: number;
  slowQueries: number;
  queriesPerRequest: number;
  heapBytes: number;
  gcCycles: number;
  gcPauseMs: number;
  goroutines: number;
  droppedEvents: number;
}

export interface Static {
  dir: string;
  index?: string;
}

export interface TLSConfig {
  certFile?: string;
  keyFile?: string;
  selfSigned?: boolean;
  hosts?: string[];
}

export interface TokenInspection {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  type: string;
  valid: boolean;
  reason: string;
}

export interface TokenSpec {
  kid?: string;
  subject?: string;
  roles?: string[];
  scope?: string;
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
  events: Event[];
}

export interface Verdict {
  fingerprint: string;
  caller: string;
  count: number;
  totalMs: number;
  fix: string;
}
