//! End-to-end tests through the galleon binary and the emulator.
