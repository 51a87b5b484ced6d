export {
  can,
  keyPrincipal,
  mayGrant,
  memberPrincipal,
  requirePermission,
  ROLES,
  SCOPES,
  type Permission,
  type Principal,
  type Role,
  type Scope,
} from './principal.js';
