import type { AutomlSettings, ForecastSettings } from '../../shared/ml/automl/types.js';

/** Resolved settings of a forecasting job on a table of `date` and `y`: 6 periods ahead, one series. */
export function forecastSettings(
  forecasting: Partial<ForecastSettings> = {},
  extra: Partial<AutomlSettings> = {},
): AutomlSettings {
  return {
    task: 'forecasting',
    targetColumn: 'y',
    primaryMetric: 'normalized_root_mean_squared_error',
    validation: { kind: 'auto' },
    algorithms: [],
    enableVoteEnsemble: false,
    enableStackEnsemble: false,
    maxTrials: 50,
    maxConcurrentTrials: 1,
    earlyTermination: false,
    seed: 0,
    notices: [],
    forecasting: {
      timeColumn: 'date',
      horizon: 6,
      seriesIdColumns: [],
      targetLags: 'auto',
      rollingWindow: 'auto',
      seasonality: 'auto',
      ...forecasting,
    },
    ...extra,
  };
}
