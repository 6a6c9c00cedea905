/**
 * Whose processing time this is: a call's work (a conversion on this thread or in a worker, a
 * search) is charged to the key that asked for it, so that the rate limiter can hold back a key
 * that has used more than its share. The key is carried by Node's AsyncLocalStorage from where a
 * call starts (the tool dispatcher, a resource read) to wherever its work is done, so that the
 * code in between (operations, documents, the converter) need not pass it along.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export interface CpuAccount {
  chargeCpu(ms: number): void;
  /** Processing time charged in the last minute (whose work goes first when several wait). */
  cpuSpentMs?(): number;
}

const current = new AsyncLocalStorage<CpuAccount | undefined>();

/** Runs `work` with what it spends charged to `account` (undefined: to no one). */
export function accountedTo<T>(account: CpuAccount | undefined, work: () => T): T {
  return current.run(account, work);
}

/** The account work started now is charged to, if any. */
export function currentAccount(): CpuAccount | undefined {
  return current.getStore();
}

/** Charges `ms` to the current account (nothing when there is none). */
export function chargeCpu(ms: number, account: CpuAccount | undefined = current.getStore()): void {
  account?.chargeCpu(ms);
}

/** Runs `work` (synchronous: all of it on this thread) and charges the time it took. */
export function metered<T>(work: () => T): T {
  const account = current.getStore();
  if (!account) return work();
  const started = performance.now();
  try {
    return work();
  } finally {
    account.chargeCpu(performance.now() - started);
  }
}
