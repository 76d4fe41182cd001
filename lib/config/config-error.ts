// The error of a bad command line or configuration (exit code 2): its own
// file so the readers of the configuration's parts can throw it too.

/** A usage or configuration error; the message names the file (if any), the key or flag, and what is allowed. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly file: string | null = null,
    readonly key: string | null = null,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
