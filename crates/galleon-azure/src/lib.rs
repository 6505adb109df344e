//! galleon's Azure client: clouds, credentials, token cache, ARM REST, long-running operations, retries.
