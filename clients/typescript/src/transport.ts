// How a call reaches the check function: HTTP (fetch) or a Lambda Invoke
// (@aws-sdk/client-lambda, an optional peer dependency, loaded on first use).
// Neither retries: the client decides.

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  /** Retry-After in seconds, when the service said it. */
  retryAfter?: number;
}

/** No answer: a timeout or a failed connection. */
export class TransportFailure extends Error {}

export interface Transport {
  call(action: 'check' | 'record' | 'release', body: Record<string, unknown>, timeoutMs: number): Promise<Reply>;
}

export const PATHS = { check: '/api/quota/check', record: '/api/quota/usage', release: '/api/quota/release' } as const;

export class HttpTransport implements Transport {
  readonly baseUrl: string;
  readonly headers: Record<string, string>;

  constructor(baseUrl: string, headers: Record<string, string> = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', ...headers };
  }

  async call(action: keyof typeof PATHS, body: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    let response: Response;
    try {
      response = await fetch(this.baseUrl + PATHS[action], {
        method: 'POST', headers: this.headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      throw new TransportFailure(e instanceof Error ? e.message : String(e));
    }
    let parsed: Record<string, unknown> = {};
    try {
      const text = await response.text();
      parsed = text ? JSON.parse(text) : {};
    } catch (e) {
      if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) throw new TransportFailure(e.message);
      parsed = {};
    }
    const retry = response.headers.get('retry-after');
    return { status: response.status, body: parsed, retryAfter: retry === null ? undefined : Number(retry) };
  }
}

/** The slice of LambdaClient this needs (tests pass their own). */
export interface LambdaLike {
  send(command: unknown, options?: { abortSignal?: AbortSignal }): Promise<{ Payload?: Uint8Array; FunctionError?: string }>;
}

export class LambdaTransport implements Transport {
  readonly functionName: string;
  private client?: LambdaLike;
  private sdk?: { InvokeCommand: new (input: unknown) => unknown };

  constructor(functionName: string, client?: LambdaLike) {
    this.functionName = functionName;
    this.client = client;
  }

  private async load(): Promise<void> {
    if (this.sdk && this.client) return;
    let sdk: Record<string, any>;
    try {
      sdk = await import('@aws-sdk/client-lambda' as string);
    } catch {
      throw new Error('the Lambda transport needs @aws-sdk/client-lambda: npm install @aws-sdk/client-lambda');
    }
    this.sdk = sdk as { InvokeCommand: new (input: unknown) => unknown };
    // The client retries as its policy says; the SDK must not add its own.
    this.client ??= new sdk.LambdaClient({ maxAttempts: 1 }) as LambdaLike;
  }

  async call(action: keyof typeof PATHS, body: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    await this.load();
    const payload = new TextEncoder().encode(JSON.stringify({ action, ...body }));
    let out: { Payload?: Uint8Array; FunctionError?: string };
    try {
      const command = new this.sdk!.InvokeCommand({ FunctionName: this.functionName, Payload: payload });
      out = await this.client!.send(command, { abortSignal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const name = e instanceof Error ? e.name : '';
      if (name === 'TooManyRequestsException' || name === 'ServiceException') return { status: 503, body: { title: name } };
      throw new TransportFailure(e instanceof Error ? e.message : String(e));
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '{}';
    const parsed = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (out.FunctionError) return { status: 500, body: { title: 'Function error', detail: String(parsed.errorMessage ?? '') } };
    if (!('allowed' in parsed) && !('released' in parsed) && 'status' in parsed && 'type' in parsed) {
      return { status: Number(parsed.status), body: parsed };
    }
    return { status: 200, body: parsed };
  }
}
