//! A local Azure Resource Manager and Microsoft Entra ID, for tests, demos and the sandbox.
