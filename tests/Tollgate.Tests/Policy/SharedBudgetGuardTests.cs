using Tollgate.Ledger;
using Tollgate.Policy.Budgets;
using Xunit;

namespace Tollgate.Tests.Policy;

/// <summary>The budget guard against a shared store it cannot reach: a hard budget fails closed (503), room already leased is still used.</summary>
public sealed class SharedBudgetGuardTests
{
    private sealed class Store : ISharedBudgetRoom
    {
        public bool Down { get; set; }

        public decimal Leased { get; private set; }

        public Task<decimal> LeaseAsync(string budget, DateTimeOffset periodStart, decimal limitUsd, decimal wantedUsd, decimal minimumUsd, decimal spentBeforeUsd, CancellationToken cancellationToken)
        {
            if (Down)
            {
                throw new TimeoutException("store down");
            }

            var granted = Math.Min(wantedUsd, limitUsd - Leased);
            granted = granted < minimumUsd ? 0 : granted;
            Leased += granted;
            return Task.FromResult(granted);
        }

        public Task<decimal?> SettleAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal returnedUsd, CancellationToken cancellationToken) => Task.FromResult<decimal?>(null);

        public Task<decimal> AddSpentAsync(string budget, DateTimeOffset periodStart, decimal spentUsd, decimal spentBeforeUsd, CancellationToken cancellationToken) => Task.FromResult(spentBeforeUsd + spentUsd);

        public Task<bool> ClaimAlertAsync(string budget, DateTimeOffset periodStart, int thresholdPercent, CancellationToken cancellationToken) => Task.FromResult(true);

        public Task ReturnAllAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task While_the_store_is_down_leased_room_is_used_and_then_requests_are_refused_with_a_503()
    {
        var store = new Store();
        var guard = new BudgetGuard([new Budget("all", "global", null, BudgetPeriod.Monthly, 1.00m, Hard: true)], TimeZoneInfo.Utc, TimeProvider.System, shared: store);

        // The first request leases a slice: ten times its worst case, at most 5% of the limit — $0.05, five requests.
        var (first, _, _) = await guard.AdmitAsync(Attribution.Empty, 0.01m);
        guard.Settle(first, 0.01m);
        store.Down = true;
        var admitted = 0;
        (BudgetReservation? Reservation, Tollgate.Gateway.Errors.GatewayError? Error, decimal? Remaining) result;
        while ((result = await guard.AdmitAsync(Attribution.Empty, 0.01m)).Reservation is { } reservation)
        {
            guard.Settle(reservation, 0.01m);
            admitted++;
        }

        Assert.Equal(4, admitted);
        Assert.Equal((503, "budget_store_unavailable"), (result.Error!.Status, result.Error.Code));
        store.Down = false;
        Assert.NotNull((await guard.AdmitAsync(Attribution.Empty, 0.01m)).Reservation);
    }
}
