// @quota-service/client: the chat backend's side of the quota service.
export { QuotaClient, Turn } from './client.js';
export type { BeginParams, Policy, RecordParams } from './client.js';
export { IdempotencyConflict, InvalidRequest, ProblemError, QuotaError, QuotaUnavailable, UnpricedModel } from './errors.js';
export { HttpTransport, LambdaTransport, TransportFailure } from './transport.js';
export type { LambdaLike, Reply, Transport } from './transport.js';
export type * from './types.js';
