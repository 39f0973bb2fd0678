export * from './job-definitions.js';
export * from './job-queue.js';
export { JOB_STATES, type JobListFilter, type JobListPage, type JobPosition, type JobRecord, type JobState } from './job-store.js';
export { TENANT_DELETED_OUTPUT, type WorkerOptions } from './job-worker.js';
