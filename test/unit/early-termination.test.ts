// Early termination policies (shared/ml/early-termination.ts) decided on hand-made metric
// histories: bandit (slack factor and amount, both goals), median stopping, truncation selection
// (with and without finished trials), and the evaluation_interval / delay_evaluation edges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EarlyTermination } from '../../shared/contracts/azureml/job-sweep.js';
import { appliesAt, decideTerminations, latestEvaluation, policyProblem } from '../../shared/ml/early-termination.js';
import type { TrialMetricHistory } from '../../shared/ml/early-termination.js';

const done = (name: string, values: number[]): TrialMetricHistory => ({ name, values, running: false });
const running = (name: string, values: number[]): TrialMetricHistory => ({ name, values, running: true });
const stopped = (
  policy: EarlyTermination,
  trials: TrialMetricHistory[],
  goal: 'maximize' | 'minimize' = 'maximize',
): [string, number][] => decideTerminations(policy, goal, 'acc', trials).map((d) => [d.name, d.interval]);

describe('early termination: when a policy applies', () => {
  it('applies at multiples of evaluation_interval from delay_evaluation on', () => {
    const policy: EarlyTermination = { type: 'median_stopping', evaluation_interval: 2, delay_evaluation: 3 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => appliesAt(policy, n)),
      [false, false, false, true, false, true],
    );
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => latestEvaluation(policy, n)),
      [undefined, undefined, undefined, 4, 4, 6, 6],
    );
    // The defaults: every logged value, from the first.
    const every: EarlyTermination = { type: 'median_stopping' };
    assert.deepEqual(
      [0, 1, 2].map((n) => latestEvaluation(every, n)),
      [undefined, 1, 2],
    );
    // delay_evaluation equal to an interval multiple includes it.
    assert.equal(latestEvaluation({ type: 'median_stopping', evaluation_interval: 1, delay_evaluation: 3 }, 3), 3);
  });
});

describe('bandit policy', () => {
  const history = [done('a', [0.5, 0.8]), running('b', [0.6, 0.7]), running('c', [0.6, 0.75])];

  it('with slack_factor stops a running trial below best / (1 + slack_factor), maximizing', () => {
    // The best at interval 2 is a's 0.8; the cutoff 0.8 / 1.1 = 0.727.
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, history), [['b', 2]]);
    const [decision] = decideTerminations({ type: 'bandit', slack_factor: 0.1 }, 'maximize', 'acc', history);
    assert.match(
      decision?.reason ?? '',
      /best acc 0\.7 is below 0\.727273, the best trial's \(a\) 0\.8 with slack_factor 0\.1/,
    );
  });

  it('with slack_amount stops a running trial below best - slack_amount (not one on the line)', () => {
    const trials = [done('a', [0.5, 1]), running('b', [0.6, 0.7]), running('c', [0.6, 0.75])];
    assert.deepEqual(stopped({ type: 'bandit', slack_amount: 0.25 }, trials), [['b', 2]]);
    assert.deepEqual(stopped({ type: 'bandit', slack_amount: 0.5 }, trials), []);
  });

  it('minimizing, stops a running trial above best × (1 + slack_factor)', () => {
    const losses = [done('a', [0.5, 0.2]), running('b', [0.4, 0.3]), running('c', [0.4, 0.21])];
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, losses, 'minimize'), [['b', 2]]);
  });

  it('compares a young trial only with the others at its own interval', () => {
    // At interval 1, a's value was 0.5: b leads with 0.6 and is not stopped for a's later 0.9.
    const trials = [done('a', [0.5, 0.9, 0.95]), running('b', [0.6])];
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, trials), []);
    trials[1] = running('b', [0.6, 0.61]);
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, trials), [['b', 2]]);
  });

  it('waits for delay_evaluation, then judges at the latest multiple of evaluation_interval', () => {
    const policy: EarlyTermination = { type: 'bandit', slack_factor: 0.1, delay_evaluation: 3, evaluation_interval: 2 };
    const leader = done('a', [0.9, 0.9, 0.9, 0.9, 0.9]);
    assert.deepEqual(stopped(policy, [leader, running('b', [0.1, 0.1])]), []);
    assert.deepEqual(stopped(policy, [leader, running('b', [0.1, 0.1, 0.1])]), [], 'interval 3 is not a multiple of 2');
    assert.deepEqual(stopped(policy, [leader, running('b', [0.1, 0.1, 0.1, 0.1])]), [['b', 4]]);
    assert.deepEqual(stopped(policy, [leader, running('b', [0.1, 0.1, 0.1, 0.1, 0.1])]), [['b', 4]]);
  });

  it('never stops finished trials or the best one, and judges on the best value so far', () => {
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, [done('a', [0.9]), done('b', [0.1])]), []);
    assert.deepEqual(stopped({ type: 'bandit', slack_factor: 0.1 }, [running('a', [0.9])]), []);
    // b's latest 0.5 is low, but its best so far (0.85) is within the slack of 0.9.
    assert.deepEqual(
      stopped({ type: 'bandit', slack_factor: 0.1 }, [done('a', [0.9, 0.9]), running('b', [0.85, 0.5])]),
      [],
    );
  });
});

describe('median stopping policy', () => {
  it("stops a running trial whose best is worse than the median of the trials' running averages", () => {
    const trials = [
      done('a', [1, 1, 1]),
      done('b', [0.2, 0.4, 0.6]),
      running('c', [0.1, 0.2, 0.3]),
      running('d', [0.5, 0.5, 0.5]),
    ];
    // Running averages at interval 3: a 1, b 0.4, c 0.2, d 0.5; median 0.45. c's best 0.3 < 0.45; d's 0.5 is not.
    assert.deepEqual(stopped({ type: 'median_stopping' }, trials), [['c', 3]]);
    const [decision] = decideTerminations({ type: 'median_stopping' }, 'maximize', 'acc', trials);
    assert.match(
      decision?.reason ?? '',
      /best acc 0\.3 is worse than 0\.45, the median of 4 trials' running averages over intervals 1\.\.3/,
    );
  });

  it('minimizing, stops a trial whose best is above the median', () => {
    const trials = [done('a', [1, 1]), done('b', [0.2, 0.2]), running('c', [0.9, 0.8])];
    // Averages 1, 0.2, 0.85: median 0.85; c's best 0.8 is below it (better): kept.
    assert.deepEqual(stopped({ type: 'median_stopping' }, trials, 'minimize'), []);
    trials[2] = running('c', [0.95, 0.9]);
    trials.push(running('d', [1.2, 1.1]));
    // Averages 1, 0.2, 0.925, 1.15: median 0.9625; c's best 0.9 is better (kept), d's 1.1 worse (stopped).
    assert.deepEqual(stopped({ type: 'median_stopping' }, trials, 'minimize'), [['d', 2]]);
  });

  it('respects delay_evaluation', () => {
    const trials = [done('a', [1, 1, 1]), done('b', [1, 1, 1]), running('c', [0, 0])];
    assert.deepEqual(stopped({ type: 'median_stopping', delay_evaluation: 3 }, trials), []);
    assert.deepEqual(stopped({ type: 'median_stopping', delay_evaluation: 2 }, trials), [['c', 2]]);
  });
});

describe('truncation selection policy', () => {
  const trials = [
    done('a', [0.9, 0.9]),
    done('b', [0.1, 0.15]),
    running('c', [0.2, 0.3]),
    running('d', [0.5, 0.6]),
    running('e', [0.7, 0.8]),
  ];

  it('stops the running trials among the lowest truncation_percentage percent at the interval', () => {
    // 40% of 5 = 2 lowest: b (finished, not stopped) and c.
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 40 }, trials), [['c', 2]]);
    // 60% of 5 = 3 lowest: b, c, d.
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 60 }, trials), [
      ['c', 2],
      ['d', 2],
    ]);
    // 10% of 5 rounds down to none.
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 10 }, trials), []);
  });

  it('with exclude_finished_jobs ranks only the running trials', () => {
    // Running c, d, e: 40% of 3 = 1 lowest: c. 67% of 3 = 2: c, d.
    assert.deepEqual(
      stopped({ type: 'truncation_selection', truncation_percentage: 40, exclude_finished_jobs: true }, trials),
      [['c', 2]],
    );
    assert.deepEqual(
      stopped({ type: 'truncation_selection', truncation_percentage: 67, exclude_finished_jobs: true }, trials),
      [
        ['c', 2],
        ['d', 2],
      ],
    );
    // Without it, 20% of 5 = 1 lowest is the finished b: nothing running is stopped.
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 20 }, trials), []);
  });

  it('minimizing, the lowest are the largest', () => {
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 20 }, trials, 'minimize'), []);
    assert.deepEqual(stopped({ type: 'truncation_selection', truncation_percentage: 40 }, trials, 'minimize'), [
      ['e', 2],
    ]);
  });

  it('honours evaluation_interval', () => {
    const policy: EarlyTermination = {
      type: 'truncation_selection',
      truncation_percentage: 50,
      evaluation_interval: 3,
    };
    assert.deepEqual(stopped(policy, [done('a', [1, 1, 1]), running('b', [0, 0])]), []);
    assert.deepEqual(stopped(policy, [done('a', [1, 1, 1]), running('b', [0, 0, 0])]), [['b', 3]]);
  });
});

describe('policy settings', () => {
  it('are checked as Azure ML checks them', () => {
    assert.equal(policyProblem({ type: 'bandit', slack_factor: 0.1 }), undefined);
    assert.equal(policyProblem({ type: 'bandit', slack_amount: 0.1 }), undefined);
    assert.match(policyProblem({ type: 'bandit' })?.message ?? '', /exactly one of slack_factor and slack_amount/);
    assert.match(policyProblem({ type: 'bandit', slack_factor: 0.1, slack_amount: 1 })?.message ?? '', /exactly one/);
    assert.equal(policyProblem({ type: 'bandit', slack_amount: -1 })?.key, 'slack_amount');
    assert.equal(
      policyProblem({ type: 'truncation_selection', truncation_percentage: 0 })?.key,
      'truncation_percentage',
    );
    assert.equal(policyProblem({ type: 'median_stopping' }), undefined);
  });
});
