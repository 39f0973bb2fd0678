export * from './registry-types.js';
export { BudgetClosedError, ConnectionBudget, DatabaseBusyError, type ConnectionBudgetOptions, type SlotCallback, type SlotRelease } from './connection-budget.js';
export { makeBudgetedClientClass, type BudgetedClient, type BudgetedClientClass, type BudgetedClientHooks } from './budgeted-client.js';
export { createClientRegistry, DEFAULT_APPLICATION_NAME } from './client-registry.js';
