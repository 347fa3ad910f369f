// The state every page keeps: a form and its last error, a paged listing,
// the actions on a listing's rows, and the tiers for a select.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, listAll } from './api.js';
import { html } from './html.js';
import { Failure } from './components.js';

/** Form state: values, one setter for every field, and the last call's error. */
export function useForm(initial) {
  const [values, setValues] = useState(initial);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = useCallback((name, value) => setValues((v) => ({ ...v, [name]: value })), []);
  /** Runs `call`; on failure keeps the error (field errors show at fields). */
  const submit = async (call) => {
    setBusy(true);
    setError(null);
    try {
      return await call();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  const fieldError = (name) => (error instanceof ApiError ? error.fields[name] : undefined);
  return { values, setValues, set, error, setError, busy, submit, fieldError };
}

/** A paged listing: the first page on load and whenever `query` changes, "Load more" after. */
export function useListing(path, query) {
  const [state, setState] = useState({ items: [], nextToken: null, loading: true, error: null });
  // Only the latest call may set the state: an earlier filter's answer
  // arriving late must not replace the current one's.
  const latest = useRef(0);
  const key = JSON.stringify(query);
  const load = useCallback(async (nextToken, keep) => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const answer = await api('GET', path, { query: { ...query, nextToken } });
      if (call !== latest.current) return;
      setState((s) => ({ items: keep ? [...s.items, ...answer.items] : answer.items, nextToken: answer.nextToken, loading: false, error: null }));
    } catch (error) {
      if (call !== latest.current) return;
      setState((s) => ({ ...s, loading: false, error }));
    }
  }, [path, key]);
  useEffect(() => { load(undefined, false); }, [load]);
  return { ...state, reload: () => load(undefined, false), more: () => load(state.nextToken, true) };
}

/**
 * What a listing page does to its rows (delete, enable, ...): `act` runs a
 * call, then says `what` and reloads the listing; `failure` is the alert for
 * the listing's or the last action's error.
 */
export function useRowActions(listing, what) {
  const [notice, setNotice] = useState('');
  const [error, setError] = useState(null);
  const act = async (done, call) => {
    setError(null);
    try {
      await call();
      setNotice(done);
      listing.reload();
    } catch (e) {
      setError(e);
    }
  };
  const failure = html`<${Failure} error=${listing.error || error} onReload=${() => { setError(null); listing.reload(); }}
    onRetry=${listing.error && listing.reload} what=${what} />`;
  return { notice, setNotice, act, failure };
}

/** The tiers for a select ('' first: none chosen / any). */
export function useTierOptions(first) {
  const [options, setOptions] = useState([['', first]]);
  useEffect(() => {
    listAll('/tiers').then(
      (tiers) => setOptions([['', first], ...tiers.map((t) => [t.tierId, `${t.tierName} (${t.tierId})`])]),
      () => {},
    );
  }, []);
  return options;
}
