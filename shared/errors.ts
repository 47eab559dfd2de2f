/**
 * The small set of coded errors. Each knows its HTTP mapping and whether a retry may help;
 * anything that is not an AppError is an unexpected fault and becomes a generic 500.
 */
export type ErrorCode =
  | 'ValidationError'
  | 'NotFound'
  | 'Conflict'
  | 'PreconditionFailed'
  | 'Unauthorized'
  | 'Forbidden'
  | 'PayloadTooLarge'
  | 'Unsupported'
  | 'Transient'
  | 'ConfigError';

const STATUS: Record<ErrorCode, number> = {
  ValidationError: 400,
  NotFound: 404,
  Conflict: 409,
  PreconditionFailed: 412,
  Unauthorized: 401,
  Forbidden: 403,
  PayloadTooLarge: 413,
  Unsupported: 501,
  Transient: 503,
  ConfigError: 500,
};

export interface AppErrorOptions {
  target?: string;
  retryable?: boolean;
  cause?: unknown;
  details?: readonly ErrorDetail[];
}

export interface ErrorDetail {
  target: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly target: string | undefined;
  readonly retryable: boolean;
  readonly details: readonly ErrorDetail[];

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.target = options.target;
    this.retryable = options.retryable ?? code === 'Transient';
    this.details = options.details ?? [];
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export class ValidationError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('ValidationError', message, options);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('NotFound', message, options);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('Conflict', message, options);
  }
}

export class PreconditionFailedError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('PreconditionFailed', message, options);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('Unauthorized', message, options);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('Forbidden', message, options);
  }
}

export class TransientError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('Transient', message, { ...options, retryable: true });
  }
}

export class ConfigError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('ConfigError', message, options);
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
