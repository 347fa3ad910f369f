// The service's answers as JSON types (money as decimal strings, counts as
// numbers). test/types.check.ts holds them to openapi.json at compile time.

/** Money: a decimal string ("0.0123"), never a JavaScript number. */
export type Money = string;

export interface WindowStatus {
  period: 'daily' | 'monthly';
  metric: 'cost' | 'tokens' | 'requests';
  limitId?: string;
  /** The group whose pooled budget this window is (absent: the user's own). */
  groupId?: string;
  /** Money (a string) for cost, a whole number for tokens and requests. */
  usage: string | number | null;
  limit: string | number | null;
  remaining: string | number | null;
  percentageUsed: number | null;
  resetsAt: string;
}

export interface ReservationSummary {
  requestId: string;
  amount: Money;
  tokens?: number;
  expiresAt: string;
  priceId?: string;
  limitId?: string;
}

export interface BlockedBy {
  scope: 'user' | 'model' | 'group';
  limitId?: string;
  groupId?: string;
  period: 'daily' | 'monthly';
  metric: 'cost' | 'tokens' | 'requests';
}

export interface CheckAnswer {
  allowed: boolean;
  decision: 'allow' | 'warn' | 'block';
  warningLevel: string;
  windows: WindowStatus[];
  message: string;
  blockedBy?: BlockedBy;
  suggestedModel?: string;
  matchedBy: string;
  tier: { tierId: string; tierName: string } | null;
  override?: { overrideId: string; overrideType: 'custom_limit' | 'unlimited'; validUntil: string };
  /** The user's groups judged too (their windows carry `groupId`). */
  groups?: GroupSummary[];
  degraded: boolean;
  quotaContext?: string;
  reservation?: ReservationSummary;
  requestId?: string;
  retryAfterSeconds?: number;
}

export interface GroupSummary {
  groupId: string;
  groupName: string;
  /** `member`, `jwt_role:…`, `email_domain:…` or `quota_context`. */
  matchedBy: string;
}

export interface Pricing {
  priceId: string;
  priceModel: string;
  input: Money;
  cachedInput: Money;
  cacheWrite: Money;
  output: Money;
  request: Money;
  total: Money;
  longContext: boolean;
}

export interface RecordAnswer extends Omit<CheckAnswer, 'requestId'> {
  requestId: string;
  duplicate: boolean;
  judged: boolean;
  crossed: {
    period: 'daily' | 'monthly';
    metric: 'cost' | 'tokens' | 'requests';
    threshold: string;
    limitId?: string;
    groupId?: string;
  }[];
  cost: Money;
  costSource: 'price' | 'client';
  pricing?: Pricing;
}

export interface ReleaseAnswer {
  requestId: string;
  released: boolean;
  /** `released`, `not_held`, ... */
  reason: string;
  amount?: Money | null;
  tokens?: number | null;
}

/** RFC 9457 problem details, as the service refuses a call. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}
