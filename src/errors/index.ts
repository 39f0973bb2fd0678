export { ErrorCode, httpStatusOf } from './error-code.js';
export { AppError, badUserInput, notFound, forbidden, unauthenticated, isAppError, type AppErrorOptions } from './app-error.js';
export { makeFormatError } from './format-error.js';
