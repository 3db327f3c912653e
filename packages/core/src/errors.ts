/**
 * Typed errors. Every error gmmkit throws on purpose is a GmmError with a
 * stable `code`, so callers (the CLI above all) can tell a usage or data
 * problem from a bug without parsing messages.
 */
export type GmmErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INVALID_DATA'
  | 'UNKNOWN_PLUGIN'
  | 'BACKEND_UNAVAILABLE'
  | 'SINGULAR_COVARIANCE'
  | 'NOT_FITTED'
  | 'MODEL_FORMAT'
  | 'ABORTED';

export class GmmError extends Error {
  readonly code: GmmErrorCode;
  constructor(code: GmmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option or argument is out of range or of the wrong shape. */
export class InvalidArgumentError extends GmmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** Where in the input a data problem sits; every field optional. */
export interface DataLocation {
  file?: string;
  /** 1-based row as a person counts it (data rows, or lines when `line` is meaningful). */
  row?: number;
  column?: string | number;
  value?: string;
}

/** The data itself is unusable: NaN/Inf, ragged rows, empty input, non-numeric cells. */
export class InvalidDataError extends GmmError {
  readonly location: DataLocation;
  constructor(message: string, location: DataLocation = {}, options?: { cause?: unknown }) {
    super('INVALID_DATA', message, options);
    this.location = location;
  }
}

/** A plugin (covariance family, initializer, criterion, backend) named but not registered. */
export class UnknownPluginError extends GmmError {
  constructor(kind: string, name: string, available: readonly string[]) {
    super('UNKNOWN_PLUGIN', `unknown ${kind} '${name}' (available: ${available.join(', ') || 'none'})`);
  }
}

/** A backend was asked for explicitly but cannot load. The message says how to install it. */
export class BackendUnavailableError extends GmmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BACKEND_UNAVAILABLE', message, options);
  }
}

/** A covariance matrix lost positive definiteness; the message names regCovar. */
export class SingularCovarianceError extends GmmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SINGULAR_COVARIANCE', message, options);
  }
}

/** A method that needs a fitted model was called before fit(). */
export class NotFittedError extends GmmError {
  constructor(method: string) {
    super('NOT_FITTED', `${method}() needs a fitted model: call fit() first`);
  }
}

/** A saved model is corrupt, from a newer schema, or does not match the data. */
export class ModelFormatError extends GmmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FORMAT', message, options);
  }
}

/** Work was cancelled through an AbortSignal. */
export class AbortedError extends GmmError {
  constructor(message = 'aborted') {
    super('ABORTED', message);
  }
}
