//! Test context: starts the emulator and runs the galleon binary against it.
