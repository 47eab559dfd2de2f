import { ValidationError } from '../../shared/errors.js';
import { collectTable } from '../../shared/ml/data/collect-table.js';
import type { Table } from '../../shared/ml/types.js';
import type { DatastoreResolver } from '../../shared/ports/datastore-resolver.js';
import { createDataAccess } from '../../shared/services/data-access.js';
import { createMLTableReader } from '../../shared/services/mltable-reader.js';

/**
 * Reads an MLTable folder that the trainer staged on local disk (the job's `mltable` input) into a
 * column table. Its paths must be local to the folder: the trainer has downloaded them; a path
 * naming a datastore is refused with a message saying so.
 */
export async function readLocalTable(folder: string, what: string, seed: number): Promise<Table> {
  const noDatastores: DatastoreResolver = {
    resolve(_ws, datastore) {
      return Promise.reject(
        new ValidationError(
          `The ${what} MLTable names datastore '${datastore}' in its paths; AutoML reads the files staged beside the MLTable file. Use paths relative to the MLTable (file: ./data.csv).`,
          { target: what },
        ),
      );
    },
  };
  const reader = createMLTableReader({
    data: createDataAccess({ datastores: noDatastores, localRoots: [folder] }),
    randomSeed: () => seed,
  });
  try {
    return await collectTable(await reader.open('local', folder));
  } catch (err) {
    if (err instanceof ValidationError) {
      throw new ValidationError(`${what}: ${err.message}`, { target: what, cause: err });
    }
    throw err;
  }
}
