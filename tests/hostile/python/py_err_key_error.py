# A misspelt column: the error names the user's line, and the close match.
def strategy(df):
    wanted = 3.0
    # gap_pct is meant
    return df[df['gap_pc'] > wanted].to_dict('records')
