import type { AutomlService } from '../../shared/services/automl-service.js';
import type { SweepService } from '../../shared/services/sweep-service.js';
import { getServices } from '../../shared/wiring.js';

/** The service that proposes and finalizes a parent job's trials: AutoML's or the sweeps'. */
export async function trialEngineOf(workspace: string, name: string): Promise<SweepService | AutomlService> {
  const services = await getServices();
  const parent = await services.jobs.get(workspace, name);
  return parent.type === 'automl' ? services.automl : services.sweeps;
}
