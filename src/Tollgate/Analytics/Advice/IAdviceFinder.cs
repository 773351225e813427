using Tollgate.Ledger;

namespace Tollgate.Analytics.Advice;

/// <summary>One kind of finding: takes the range's records one by one (a month of a large ledger is never held), then says what it found.</summary>
internal interface IAdviceFinder
{
    void Add(UsageRecord record);

    IEnumerable<Advice> Advise(AdviceContext context);
}
