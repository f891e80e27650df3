package migrate

// LockKey is the advisory lock Up holds, for tests that hold it themselves.
const LockKey = lockKey
