/**
 * Who may do what: one table in code. Every route declares the permission it needs
 * (`requires(...)`); kitchen screens run as a device role without a person.
 */
export const PERMISSIONS = [
  'order:sell', // open orders, add lines, take cash
  'order:discount', // discounts up to the store's threshold
  'order:discount-large', // discounts over the threshold
  'order:price-override',
  'order:void', // void an unpaid order
  'order:void-sent', // void an item the kitchen already has
  'order:comp', // give a made item away (counts in comps)
  'order:refund',
  'drawer:no-sale', // open the cash drawer without a sale
  'kitchen:bump',
  'reports:view',
  'backoffice:access',
  'terminals:pair',
  'devices:manage', // printers, their queues and routes (the back office's devices page)
  'staff:manage',
  'settings:edit',
  'audit:view',
  'catalog:edit', // products, categories, modifiers, tax rates, prices, CSV import (the back office)
  'inventory:manage', // stock adjustments and counts
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export type Role = 'server' | 'cashier' | 'manager' | 'owner';
export const ROLES: Role[] = ['server', 'cashier', 'manager', 'owner'];

const server: Permission[] = ['order:sell'];
const cashier: Permission[] = [...server, 'order:discount'];
const manager: Permission[] = [
  ...cashier, 'kitchen:bump', 'order:discount-large', 'order:price-override', 'order:void', 'order:void-sent', 'order:comp', 'order:refund', 'drawer:no-sale',
  'reports:view', 'backoffice:access', 'terminals:pair', 'devices:manage', 'audit:view', 'catalog:edit', 'inventory:manage',
];
const owner: Permission[] = [...PERMISSIONS];

export const ROLE_PERMISSIONS: Record<Role, ReadonlySet<Permission>> = {
  server: new Set(server),
  cashier: new Set(cashier),
  manager: new Set(manager),
  owner: new Set(owner),
};

/** What a kitchen screen may do with no one logged in. */
export const KITCHEN_DEVICE_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['kitchen:bump']);

export const roleCan = (role: Role, p: Permission) => ROLE_PERMISSIONS[role].has(p);

/** Roles ranked, for "a manager or above" checks and for who may create whom. */
export const roleRank = (r: Role) => ROLES.indexOf(r);
