// Compile-time: the client's answer types name exactly the fields of
// openapi.json's schemas (`npm test` generates test/openapi.d.ts first), so a
// field the service adds, renames or drops fails the client's build.
import type { components } from './openapi.js';
import type {
  BlockedBy, CheckAnswer, GroupSummary, Pricing, RecordAnswer, ReleaseAnswer, ReservationSummary, WindowStatus,
} from '../src/types.js';

type S = components['schemas'];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type SameFields<A, B> = Same<keyof A, keyof B>;
const check = <T extends true>(_: T) => _;

check<SameFields<WindowStatus, S['WindowStatus']>>(true);
check<SameFields<ReservationSummary, S['ReservationSummary']>>(true);
check<SameFields<BlockedBy, S['BlockedBy']>>(true);
check<SameFields<GroupSummary, S['GroupSummary']>>(true);
check<SameFields<RecordAnswer['crossed'][number], S['Crossing']>>(true);
check<SameFields<Pricing, S['Pricing']>>(true);
check<SameFields<ReleaseAnswer, S['ReleaseAnswer']>>(true);
check<SameFields<CheckAnswer, S['CheckAnswer']>>(true);
check<SameFields<RecordAnswer, S['RecordAnswer']>>(true);
