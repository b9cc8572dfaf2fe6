// The contract's error record as a JavaScript error.

/** A failure the component reports through the contract's `error` record. */
export class ConnectorError extends Error {
  constructor({ kind, message, status = null, code = null, details = null, retryAfterMs = null }) {
    super(message);
    /** The contract's error-kind, such as "unauthorized" or "rate-limited". */
    this.kind = kind;
    this.status = status ?? null;
    this.code = code ?? null;
    this.details = details ?? null;
    this.retryAfterMs = retryAfterMs ?? null;
  }

  toJSON() {
    const { kind, message, status, code, details, retryAfterMs } = this;
    return { kind, message, status, code, details, retryAfterMs };
  }
}

Object.defineProperty(ConnectorError.prototype, 'name', { value: 'ConnectorError', configurable: true, writable: true });
