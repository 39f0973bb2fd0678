/**
 * Who may do what: one explicit rule for every root field and every object type
 * (test/unit/permissions.test.ts fails when one is missing). Anything not listed is denied.
 */
import { allow, and, deny, or, shield } from 'graphql-shield';
import { AppError, ErrorCode } from '../errors/index.js';
import {
  hasAbility,
  hasAnyRole,
  isAncestorAdmin,
  isImpersonating,
  isSignedInPerson,
  isAuthenticated,
  isScopeAdmin,
  isScopeMember,
  isSystemAdmin,
  isTenantAdminToken,
  isTenantWritable,
  hasActiveSubscription,
  moduleEnabled,
  scopeDetailsVisible,
  tenantDetailsVisible,
} from './rules.js';

/** The request's principal belongs to the scope, administers an ancestor of it, or is a system admin. */
const canAccessScope = and(isAuthenticated, or(isScopeMember, isAncestorAdmin, isSystemAdmin));
/** The landlord's operations (jobs of every tenant): system admins only. */
const isSystemOperator = and(isAuthenticated, isSystemAdmin);
/** Lists and reads tenants: system admins (everything) and tenant admins (their own subtree). */
/** Changes a tenant's lifecycle: system admins, and tenant admins (the service allows only their descendants). */
const canManageTenantLifecycle = and(isAuthenticated, or(isSystemAdmin, isTenantAdminToken));
const canAdministerTenants = and(isAuthenticated, or(isSystemAdmin, isScopeAdmin, hasAbility('tenants:read')));
/** Members and the audit log: system admins, and admins (the services narrow to their subtree). */
const isAdministrator = and(isAuthenticated, hasAnyRole('system_admin,admin'));
/** Signed-in people acting for themselves (no API token, no impersonation). */
const isPerson = and(isAuthenticated, isSignedInPerson);

export const ruleTree = {
  Query: {
    health: allow,
    serverInfo: allow,
    me: allow,
    currentTenant: allow,
    tenants: canAdministerTenants,
    tenant: canAdministerTenants,
    migrationRun: and(isAuthenticated, isSystemAdmin),
    // Subtree admins too: the resolver checks the tenant against the principal's (assertMayManage).
    clusterSchemas: isAuthenticated,
    catalogItems: canAccessScope,
    practitioners: canAccessScope,
    patients: and(canAccessScope, hasAbility('patients:read')),
    patient: and(canAccessScope, hasAbility('patients:read')),
    visits: and(canAccessScope, moduleEnabled('emr'), hasAbility('visits:read')),
    invoices: and(canAccessScope, moduleEnabled('pos'), hasAbility('invoices:read')),
    dbServers: and(isAuthenticated, isSystemAdmin),
    plans: isAdministrator,
    accessCatalogue: allow,
    members: isAdministrator,
    auditLogs: isAdministrator,
    apiTokens: isPerson,
    jobs: isSystemOperator,
  },
  Mutation: {
    // The service narrows to the caller's subtree (NOT_FOUND outside it).
    setTenantHomepage: and(isAuthenticated, or(isSystemAdmin, isScopeAdmin)),
    createPatient: and(canAccessScope, isTenantWritable, hasActiveSubscription, hasAbility('patients:write')),
    updatePatient: and(canAccessScope, isTenantWritable, hasActiveSubscription, hasAbility('patients:write')),
    recordVisit: and(canAccessScope, isTenantWritable, hasActiveSubscription, moduleEnabled('emr'), hasAbility('visits:write')),
    createInvoice: and(canAccessScope, isTenantWritable, hasActiveSubscription, moduleEnabled('pos'), hasAbility('invoices:write')),
    migrateTenants: and(isAuthenticated, isSystemAdmin),
    generateClusterSchemas: isAuthenticated,
    addDbServer: and(isAuthenticated, isSystemAdmin),
    rotateEncryptionKeys: and(isAuthenticated, isSystemAdmin),
    createTenant: canManageTenantLifecycle,
    suspendTenant: canManageTenantLifecycle,
    resumeTenant: canManageTenantLifecycle,
    setTenantMaintenance: canManageTenantLifecycle,
    deleteTenant: canManageTenantLifecycle,
    restoreTenant: canManageTenantLifecycle,
    retryProvisioning: canManageTenantLifecycle,
    createPlan: and(isAuthenticated, isSystemAdmin),
    updatePlan: and(isAuthenticated, isSystemAdmin),
    // The service allows system admins and admins of an ancestor of the tenant (NOT_FOUND otherwise).
    changePlan: canManageTenantLifecycle,
    enableModule: canManageTenantLifecycle,
    disableModule: canManageTenantLifecycle,
    addDomain: canManageTenantLifecycle,
    verifyDomain: canManageTenantLifecycle,
    setPrimaryDomain: canManageTenantLifecycle,
    removeDomain: canManageTenantLifecycle,
    // Sign-in: the credentials (password, refresh token, challenge, code) are the check.
    login: allow,
    verifyTwoFactor: allow,
    refreshToken: allow,
    logout: allow,
    enrolTwoFactor: allow,
    // A CLI-issued code is redeemed without a bearer; an account's code only by that account (checked in the service).
    redeemImpersonation: allow,
    confirmTwoFactor: isPerson,
    switchTenant: isPerson,
    impersonate: and(isPerson, hasAnyRole('system_admin,admin')),
    endImpersonation: and(isAuthenticated, isImpersonating),
    createApiToken: isPerson,
    revokeApiToken: isPerson,
    inviteMember: isAdministrator,
    // The service checks the membership's tenant (admins of it or an ancestor, system admins).
    resendInvitation: isAdministrator,
    // The one-time token is the credential, as the password is for login.
    acceptInvitation: allow,
    updateMember: isAdministrator,
    removeMember: isAdministrator,
    retryJob: isSystemOperator,
  },
  // Object types are reached only through the root fields above, which did the checking.
  Health: allow,
  ServerInfo: allow,
  Me: allow,
  // Anonymous callers (a login page) see the slug, name and status of the host's tenant, no more.
  CurrentTenant: { '*': allow, app: scopeDetailsVisible, group: scopeDetailsVisible },
  Tenant: { '*': tenantDetailsVisible, slug: allow, name: allow, status: allow },
  TenantHomepage: allow,
  TenantDomain: allow,
  TenantConnection: allow,
  TenantEdge: allow,
  MigrationRun: allow,
  MigrationRunItem: allow,
  ClusterSchema: allow,
  PageInfo: allow,
  CatalogItem: allow,
  Practitioner: allow,
  Patient: { '*': allow, visits: moduleEnabled('emr'), invoices: moduleEnabled('pos') },
  PatientConnection: allow,
  PatientEdge: allow,
  Visit: allow,
  Invoice: allow,
  InvoiceLine: allow,
  DbServer: allow,
  Plan: allow,
  PlanLimits: allow,
  Subscription: allow,
  TenantDeletion: allow,
  TenantProvisioning: allow,
  ProvisioningStep: allow,
  ManagedDomain: allow,
  KeyRotationReport: allow,
  KeyRotationFailure: allow,
  AuthPayload: allow,
  ImpersonationCode: allow,
  TwoFactorEnrolment: allow,
  AccessCatalogue: allow,
  ApiToken: allow,
  CreatedApiToken: allow,
  Member: allow,
  MemberInvitation: allow,
  Invitation: allow,
  AuditLogEntry: allow,
  AuditLogEdge: allow,
  AuditLogConnection: allow,
  Job: allow,
  JobEdge: allow,
  JobConnection: allow,
};

export const permissions = shield(ruleTree, {
  fallbackRule: deny,
  allowExternalErrors: true,
  fallbackError: () => new AppError(ErrorCode.FORBIDDEN, 'You are not allowed to do this'),
});
