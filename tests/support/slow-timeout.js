// Integration and e2e tests talk to real services; they wait on conditions with their own deadlines.
jest.setTimeout(Number(process.env.LIANDONG_TEST_TIMEOUT_MS ?? 180000));
