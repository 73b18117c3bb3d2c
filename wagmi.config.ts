import { defineConfig } from '@wagmi/cli';
import { foundry } from '@wagmi/cli/plugins';

// Typed ABIs for viem, generated from the forge build (run `npm run build` first; `npm run codegen`
// does both). Output is generated code: never edit it by hand.
export default defineConfig({
  out: 'keepers/src/generated/contracts.ts',
  plugins: [
    foundry({
      project: '.',
      artifacts: 'out',
      forge: { build: false },
      include: [
        'SendToken.sol/**',
        'NodeStaking.sol/**',
        'EpochSettlement.sol/**',
        'GuardianQuorum.sol/**',
        'WatchDogLicense.sol/**',
        'WatchDogPresale.sol/**',
        'LicenseRewards.sol/**',
        'DidRegistry.sol/**',
        'DidUniversalResolver.sol/**',
        'SwapSettlement.sol/**',
        'TestnetPoints.sol/**',
        'PointsConversion.sol/**',
      ],
    }),
  ],
});
