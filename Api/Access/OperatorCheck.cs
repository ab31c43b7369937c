using System.Security.Cryptography;
using System.Text;
using Huginn.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Huginn.Api.Access;

/// <summary>Recognises the operator's secret, comparing hashes in constant time.</summary>
public sealed class OperatorCheck(IOptions<ApiOptions> options)
{
    public bool IsOperator(HttpContext context)
    {
        var configured = options.Value.OperatorKey;
        var presented = Authenticator.SecretOf(context);
        if (string.IsNullOrEmpty(configured) || string.IsNullOrEmpty(presented)) return false;
        return CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(configured)), SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
    }
}
