using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Huginn.Api.Apis;
using Huginn.Protocol;
using Huginn.Tests.Pool;

namespace Huginn.Tests.Api.Hostile;

/// <summary>Issue 12, finding 4: input outside its range is a 400 naming the field, before anything happens.</summary>
[Collection(ApiPoolCollection.Name), Trait("Category", "Edge")]
public sealed class HostileInputTests(ApiPoolFixture fixture)
{
    private HttpClient Http(string? key = null)
    {
        var http = new HttpClient { BaseAddress = fixture.Pool.ApiUrl };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    private async Task<string> ClientKeyAsync()
    {
        using var http = Http();
        var created = await (await http.PostAsJsonAsync("v1/accounts", new { name = "hostile", role = "client" })).Content.ReadFromJsonAsync<CreateAccountResponse>(Frame.Json);
        using var owner = Http(created!.ApiKey);
        (await owner.PostAsJsonAsync("v1/accounts/me/credits", new { hu = 10 })).EnsureSuccessStatusCode();
        return created.ApiKey;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static string SpecJson => JsonSerializer.Serialize(Specs.TeacherTraining(1, 2), Frame.Json);

    /// <summary>The fields a 400 problem names, after checking it is one.</summary>
    private static async Task<Dictionary<string, string[]>> InvalidFieldsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"expected 400, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        return problem.GetProperty("errors").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(r => r.GetString()!).ToArray());
    }

    [Theory]
    [InlineData("1e13")]
    [InlineData("1e20")]
    [InlineData("-1")]
    [InlineData("0.0000001")]
    public async Task A_maxHu_outside_its_range_is_a_400_naming_maxHu(string maxHu)
    {
        using var http = Http(await ClientKeyAsync());

        var response = await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{SpecJson}}, "maxHu": {{maxHu}} }"""));

        var fields = await InvalidFieldsAsync(response);
        Assert.Equal(["maxHu"], fields.Keys);
    }

    [Fact]
    public async Task A_refused_maxHu_does_not_claim_the_idempotency_key_so_the_corrected_retry_is_not_a_conflict()
    {
        using var http = Http(await ClientKeyAsync());
        http.DefaultRequestHeaders.Add("Idempotency-Key", "retry-after-typo");

        var typo = await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{SpecJson}}, "maxHu": 1e20 }"""));
        var corrected = await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{SpecJson}}, "maxHu": 1 }"""));

        Assert.Equal(["maxHu"], (await InvalidFieldsAsync(typo)).Keys);
        // Accepted when a device can run it; else refused for the pool's capacity (field "spec"), never 409.
        Assert.NotEqual(HttpStatusCode.Conflict, corrected.StatusCode);
        Assert.True(corrected.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.BadRequest, $"{(int)corrected.StatusCode}");
        if (corrected.StatusCode == HttpStatusCode.BadRequest) Assert.DoesNotContain("maxHu", (await InvalidFieldsAsync(corrected)).Keys);
    }

    [Fact]
    public async Task A_submission_the_pool_refuses_lets_go_of_its_idempotency_key()
    {
        using var http = Http(await ClientKeyAsync());
        http.DefaultRequestHeaders.Add("Idempotency-Key", "refused-then-corrected");

        // More than the account's 10 HU (or no device online to run it): refused either way, and no job exists.
        var refused = await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{SpecJson}}, "maxHu": 500 }"""));
        var corrected = await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{SpecJson}}, "maxHu": 1 }"""));

        Assert.True(refused.StatusCode is HttpStatusCode.PaymentRequired or HttpStatusCode.BadRequest, $"{(int)refused.StatusCode}");
        Assert.NotEqual(HttpStatusCode.Conflict, corrected.StatusCode);
    }

    [Fact]
    public async Task A_credit_too_large_for_a_decimal_is_a_400_naming_hu_and_its_type()
    {
        using var http = Http(await ClientKeyAsync());

        var fields = await InvalidFieldsAsync(await http.PostAsync("v1/accounts/me/credits", Json("""{ "hu": 1e40 }""")));

        Assert.Equal("must be a number (at most 7.9e28)", Assert.Single(fields["hu"]));
    }

    [Theory]
    [InlineData("v1/accounts", """{ "name": "x", "role": "client", "isAdmin": true }""", "isAdmin")]
    [InlineData("v1/accounts/me/credits", """{ "hu": 1, "currency": "eur" }""", "currency")]
    [InlineData("v1/jobs", """{ "spec": SPEC, "maxHu": 1, "priority": 9 }""", "priority")]
    [InlineData("v1/estimates", """{ "kind": "train", "roundz": 3 }""", "roundz")]
    public async Task An_unknown_field_is_refused_by_name(string path, string body, string field)
    {
        using var http = Http(await ClientKeyAsync());

        var fields = await InvalidFieldsAsync(await http.PostAsync(path, Json(body.Replace("SPEC", SpecJson))));

        Assert.Equal("is not a field of this request", Assert.Single(fields[field]));
    }

    [Fact]
    public async Task An_unknown_field_inside_a_job_spec_is_named_with_its_path()
    {
        using var http = Http(await ClientKeyAsync());
        var spec = SpecJson.TrimEnd('}') + """, "turbo": true }""";

        var fields = await InvalidFieldsAsync(await http.PostAsync("v1/jobs", Json($$"""{ "spec": {{spec}} }""")));

        Assert.Equal("is not a field of this request", Assert.Single(fields["spec.turbo"]));
    }

    [Fact]
    public async Task An_unknown_field_inside_the_spec_is_named_with_its_path()
    {
        using var http = Http(await ClientKeyAsync());
        var spec = SpecJson.TrimEnd('}') + """, "turbo": true }""";

        var fields = await InvalidFieldsAsync(await http.PostAsync("v1/estimates", Json(spec)));

        Assert.Equal("is not a field of this request", Assert.Single(fields["turbo"]));
    }

    [Theory]
    [InlineData("v1/accounts/me/credits", """{ "hu": "lots" }""", "hu", "must be a number (at most 7.9e28)")]
    [InlineData("v1/accounts", """{ "name": 5, "role": "client" }""", "name", "must be a string")]
    [InlineData("v1/jobs", """{ "spec": SPEC, "maxHu": [1] }""", "maxHu", "must be a number (at most 7.9e28)")]
    [InlineData("v1/estimates", """{ "kind": "train", "rounds": "many" }""", "rounds", "must be an integer from -2^31 to 2^31-1")]
    public async Task A_field_of_the_wrong_type_is_a_400_naming_the_field_and_the_type(string path, string body, string field, string reason)
    {
        using var http = Http(await ClientKeyAsync());

        var fields = await InvalidFieldsAsync(await http.PostAsync(path, Json(body.Replace("SPEC", SpecJson))));

        Assert.Equal(reason, Assert.Single(fields[field]));
    }

    [Fact]
    public async Task Malformed_json_and_a_missing_body_are_400_problems_not_bare_bad_requests()
    {
        using var http = Http(await ClientKeyAsync());

        Assert.Contains("body", (await InvalidFieldsAsync(await http.PostAsync("v1/accounts/me/credits", Json("{ \"hu\": ")))).Keys);
        Assert.Contains("body", (await InvalidFieldsAsync(await http.PostAsync("v1/accounts/me/credits", Json("")))).Keys);
    }
}
