export { ErrorCode, httpStatusOf, DATABASE_RETRY_AFTER_SECONDS } from './error-code.js';
export { AppError, badUserInput, notFound, forbidden, unauthenticated, isAppError, type AppErrorOptions } from './app-error.js';
export { makeFormatError } from './format-error.js';
export { isDatabaseUnavailable, databaseUnavailable } from './database-unavailable.js';
export { retryableErrorsPlugin } from './retryable-errors.plugin.js';
