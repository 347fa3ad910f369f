// The turn API: check before the LLM call, then record or release, with
// the same failure policy and retry rules as the Python client.
import { problemError, QuotaUnavailable } from './errors.js';
import { HttpTransport, LambdaLike, LambdaTransport, Reply, Transport, TransportFailure } from './transport.js';
import type { CheckAnswer, Money, Problem, RecordAnswer, ReleaseAnswer } from './types.js';

export interface Policy {
  /** Milliseconds a check may take; past it `failOpen` decides (300). */
  checkTimeoutMs: number;
  /** A check that times out or fails allows (true, the service's default) or blocks. */
  failOpen: boolean;
  /** Milliseconds one record or release attempt may take (3000). */
  recordTimeoutMs: number;
  /** Attempts of a record or release (5), and the milliseconds they may span (10000). */
  recordAttempts: number;
  recordDeadlineMs: number;
  /** The first pause between attempts, doubled each time (100). */
  backoffMs: number;
  /** Where the client says what it did on its own (a release on leaving a turn). */
  log: (message: string) => void;
}

const DEFAULTS: Policy = {
  checkTimeoutMs: 300, failOpen: true, recordTimeoutMs: 3000, recordAttempts: 5, recordDeadlineMs: 10000,
  backoffMs: 100, log: (m) => console.info(`quota-client: ${m}`),
};

export interface BeginParams {
  userId: string;
  roles?: string[];
  email?: string;
  sessionId?: string;
  model?: string;
  requestId?: string;
  estimatedCost?: Money;
  estimatedTokens?: number;
  estimatedInputTokens?: number;
  maxOutputTokens?: number;
}

export interface RecordParams {
  cost?: Money;
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
}

/** Money as the service reads it: a decimal string, never a JavaScript number. */
function moneyText(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^\d+(\.\d+)?$/.test(value.trim())) {
    throw new TypeError(`${field} is money: a decimal string such as "0.0123", never a number`);
  }
  return value.trim();
}

function count(field: string, value: unknown): number | undefined {
  if (value === undefined || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a whole number >= 0`);
  }
  return value;
}

function compact(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function refusal(reply: Reply): Error {
  if (reply.status >= 400 && reply.status < 500 && reply.status !== 429) {
    return problemError(reply.status, reply.body as unknown as Problem);
  }
  return new QuotaUnavailable(`the service answered ${reply.status}`, reply.status);
}

function degraded(requestId: string, failOpen: boolean, why: string): CheckAnswer {
  return {
    allowed: failOpen, decision: failOpen ? 'allow' : 'block', warningLevel: 'none', windows: [],
    message: `The quota service did not answer (${why}); ${failOpen ? 'allowed' : 'blocked'} by policy.`,
    matchedBy: 'unresolved', tier: null, degraded: true, requestId,
  };
}

export class QuotaClient {
  readonly transport: Transport;
  readonly policy: Policy;

  constructor(transport: Transport, policy: Partial<Policy> = {}) {
    this.transport = transport;
    this.policy = { ...DEFAULTS, ...policy };
  }

  static http(baseUrl: string, policy: Partial<Policy> & { headers?: Record<string, string> } = {}): QuotaClient {
    return new QuotaClient(new HttpTransport(baseUrl, policy.headers), policy);
  }

  static lambda(functionName: string, policy: Partial<Policy> & { client?: LambdaLike } = {}): QuotaClient {
    return new QuotaClient(new LambdaTransport(functionName, policy.client), policy);
  }

  /** Checks (with a new requestId unless one is given) and returns the turn. */
  async begin(params: BeginParams): Promise<Turn> {
    const requestId = params.requestId ?? `turn-${crypto.randomUUID()}`;
    const body = compact({
      userId: params.userId, roles: params.roles, email: params.email, sessionId: params.sessionId,
      model: params.model, requestId, estimatedCost: moneyText('estimatedCost', params.estimatedCost),
      estimatedTokens: count('estimatedTokens', params.estimatedTokens),
      estimatedInputTokens: count('estimatedInputTokens', params.estimatedInputTokens),
      maxOutputTokens: count('maxOutputTokens', params.maxOutputTokens),
    });
    let answer: CheckAnswer;
    try {
      const reply = await this.transport.call('check', body, this.policy.checkTimeoutMs);
      if ('allowed' in reply.body) {
        answer = reply.body as unknown as CheckAnswer;
      } else {
        throw refusal(reply);
      }
    } catch (e) {
      if (!(e instanceof TransportFailure || e instanceof QuotaUnavailable)) throw e;
      this.policy.log(`check of ${params.userId} failed (${e.message}); ${this.policy.failOpen ? 'allowed' : 'blocked'} by policy`);
      answer = degraded(requestId, this.policy.failOpen, e.message);
    }
    return new Turn(this, params, requestId, answer);
  }

  private async retrying<T>(action: 'record' | 'release', body: Record<string, unknown>): Promise<T> {
    const deadline = Date.now() + this.policy.recordDeadlineMs;
    let pause = this.policy.backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.transport.call(action, body, this.policy.recordTimeoutMs);
        if (reply.status === 200) return reply.body as T;
        throw refusal(reply);
      } catch (e) {
        const passing = e instanceof TransportFailure || e instanceof QuotaUnavailable;
        if (!passing || attempt >= this.policy.recordAttempts || Date.now() + pause > deadline) {
          throw e instanceof TransportFailure ? new QuotaUnavailable(e.message) : e;
        }
        await sleep(pause);
        pause *= 2;
      }
    }
  }

  /** Records a request, retried with the same requestId (counted once); a
   * 409 idempotency conflict throws `IdempotencyConflict`, never retried. */
  async record(userId: string, requestId: string, params: RecordParams & {
    quotaContext?: string; roles?: string[]; email?: string; sessionId?: string;
  }): Promise<RecordAnswer> {
    const cost = moneyText('cost', params.cost);
    if (cost === undefined && !params.model) {
      throw new TypeError('record needs cost, or model with the token counts for the service to price');
    }
    const body = compact({
      userId, requestId, quotaContext: params.quotaContext, roles: params.roles, email: params.email,
      sessionId: params.sessionId, model: params.model, cost,
      inputTokens: count('inputTokens', params.inputTokens), outputTokens: count('outputTokens', params.outputTokens),
      cachedInputTokens: count('cachedInputTokens', params.cachedInputTokens),
      cacheWriteTokens: count('cacheWriteTokens', params.cacheWriteTokens),
    });
    return this.retrying<RecordAnswer>('record', body);
  }

  /** Lets go of a strict check's reservation (a failed LLM call). */
  async release(userId: string, requestId: string): Promise<ReleaseAnswer> {
    return this.retrying<ReleaseAnswer>('release', { userId, requestId });
  }

  /** Runs `work` inside a turn: without a record when it returns, or when it
   * throws, what the check held is released. */
  async withTurn<T>(params: BeginParams, work: (turn: Turn) => Promise<T>): Promise<T> {
    const turn = await this.begin(params);
    try {
      return await work(turn);
    } finally {
      await turn.settleIfOpen();
    }
  }
}

export class Turn {
  readonly client: QuotaClient;
  readonly params: BeginParams;
  readonly requestId: string;
  readonly answer: CheckAnswer;
  recorded?: RecordAnswer;
  released?: ReleaseAnswer;

  constructor(client: QuotaClient, params: BeginParams, requestId: string, answer: CheckAnswer) {
    this.client = client;
    this.params = params;
    this.requestId = requestId;
    this.answer = answer;
  }

  get allowed() { return this.answer.allowed; }
  get decision() { return this.answer.decision; }
  get message() { return this.answer.message; }
  get windows() { return this.answer.windows; }
  get warningLevel() { return this.answer.warningLevel; }
  get degraded() { return this.answer.degraded; }
  get reservation() { return this.answer.reservation; }
  get blockedBy() { return this.answer.blockedBy; }
  get suggestedModel() { return this.answer.suggestedModel; }
  /** Seconds until a blocked user may try again. */
  get retryAfter() { return this.answer.allowed ? undefined : this.answer.retryAfterSeconds; }

  /** Records this turn (its requestId and quotaContext): `{cost}`, or token
   * counts for the service to price with the turn's model. */
  async record(params: RecordParams): Promise<RecordAnswer> {
    this.recorded = await this.client.record(this.params.userId, this.requestId, {
      model: this.params.model, ...params, quotaContext: this.answer.quotaContext, roles: this.params.roles,
      email: this.params.email, sessionId: this.params.sessionId,
    });
    return this.recorded;
  }

  async release(): Promise<ReleaseAnswer> {
    this.released = await this.client.release(this.params.userId, this.requestId);
    return this.released;
  }

  /** Releases what the check held if the turn has neither record nor release
   * (a degraded answer may hide a hold written before the failure). */
  async settleIfOpen(): Promise<void> {
    if (this.recorded || this.released || !(this.answer.reservation || this.answer.degraded)) return;
    try {
      await this.release();
      this.client.policy.log(`turn ${this.requestId} of ${this.params.userId} ended without a record: its reservation was released`);
    } catch (e) {
      this.client.policy.log(`turn ${this.requestId}: releasing failed (${e instanceof Error ? e.message : e}); the hold expires by itself`);
    }
  }
}

