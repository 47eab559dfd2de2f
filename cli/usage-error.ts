/** A command line the CLI cannot run as given: it exits 2 and prints the usage. */
export class CliUsageError extends Error {}
