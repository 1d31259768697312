import type { ApiModuleFactory } from './deps';

// Placeholder while this module is being written; it contributes nothing yet.
export const auditModule: ApiModuleFactory = () => ({});
