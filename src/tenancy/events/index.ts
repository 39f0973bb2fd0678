export { changesTenantIdentity, mayAddLookups, tenancyEventSchema, type EventOf, type EventOrigin, type TenancyEvent, type TenancyEventType } from './tenancy-event.js';
export { openTenancyEvents, TENANCY_EVENTS_CHANNEL, type TenancyEventHandler, type TenancyEvents } from './tenancy-events.js';
