//! The import templates (rust_xlsxwriter): a data sheet with the header row, drop-down lists
//! (from a hidden sheet 代码表, so long lists such as the 58 ethnic groups and the org codes of the
//! caller's scope fit), date-formatted columns and an example row; and a sheet 说明 explaining
//! each column.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use rust_xlsxwriter::{Color, DataValidation, Format, Formula, Workbook, Worksheet, XlsxError};

use super::ImportKind;
use crate::auth::Scope;
use crate::error::AppError;
use crate::schema::{org_closure, orgs};

/// At most this many org codes go into the drop-down (Excel copes; a clerk would not).
const MAX_ORG_CODES: i64 = 5_000;

struct Column {
    header: &'static str,
    width: f64,
    date: bool,
    text: bool,
    /// The drop-down's values.
    list: Option<Vec<String>>,
    required: &'static str,
    help: &'static str,
    example: &'static str,
}

fn col(header: &'static str, width: f64, required: &'static str, help: &'static str, example: &'static str) -> Column {
    Column { header, width, date: false, text: false, list: None, required, help, example }
}

fn xerr(e: XlsxError) -> AppError {
    AppError::internal(format!("writing the template: {e}"))
}

/// The template's bytes, its file name and an ASCII fallback name.
pub async fn build(conn: &mut AsyncPgConnection, scope: &Scope, kind: ImportKind) -> Result<(Vec<u8>, &'static str, &'static str), AppError> {
    let mut q = orgs::table.into_boxed();
    if !scope.all {
        q = q.filter(orgs::id.eq_any(org_closure::table.filter(org_closure::ancestor_id.eq_any(scope.org_roots.clone())).select(org_closure::descendant_id)));
    }
    if kind == ImportKind::Members {
        q = q.filter(orgs::kind.eq_any(["branch", "group"]));
    }
    let codes: Vec<String> = q.filter(orgs::dissolved_on.is_null()).select(orgs::code).order(orgs::code).limit(MAX_ORG_CODES).load(conn).await?;
    let example_org = <[String]>::first(&codes).cloned().unwrap_or_else(|| "D0101".into());
    let (columns, sheet, name, ascii) = match kind {
        ImportKind::Members => {
            let lists = crate::code_lists::load(conn).await?;
            let names = |v: &[crate::code_lists::CodeItem]| Some(v.iter().map(|c| c.name.clone()).collect::<Vec<_>>());
            let mut cols = vec![
                col("外部编号", 14.0, "否", "人事或主数据系统中的编号；再次导入时按它找到同一人", "HR-004211"),
                col("姓名", 10.0, "新增时必填", "党员姓名", "李梅"),
                Column { list: Some(vec!["男".into(), "女".into()]), ..col("性别", 6.0, "新增时必填", "男 或 女", "女") },
                Column {
                    text: true,
                    ..col("公民身份号码", 22.0, "建议填写", "18 位公民身份号码，末位可为 X；请保持“文本”格式，存成数字会丢失末几位", "11010519491231002X")
                },
                Column { list: names(&lists.ethnicity), ..col("民族", 10.0, "否", "从下拉列表选择（GB/T 3304）", "汉族") },
                Column { date: true, ..col("出生日期", 12.0, "无身份证号时必填", "日期；填写了身份证号时可不填", "1949-12-31") },
                Column { list: names(&lists.education), ..col("学历", 12.0, "否", "从下拉列表选择", "大学本科") },
                Column { list: names(&lists.job_category), ..col("工作岗位", 18.0, "否", "从下拉列表选择", "专业技术人员") },
                Column {
                    list: Some(vec!["正式党员".into(), "预备党员".into()]), ..col("人员类别", 10.0, "新增时必填", "正式党员 或 预备党员", "正式党员")
                },
                Column {
                    list: Some(codes.clone()), ..col("党组织编码", 14.0, "新增时必填", "所在党支部或党小组的编码（也可改用“所在党组织”列填写全称）", "")
                },
                Column { date: true, ..col("入党日期", 12.0, "新增时必填", "日期；须在年满 18 周岁之后", "1975-01-10") },
                Column {
                    date: true, ..col("转正日期", 12.0, "正式党员必填", "日期；入党一年后（延长预备期的最长两年）；预备党员不填", "1976-01-10")
                },
                Column { text: true, ..col("手机号码", 14.0, "否", "11 位手机号或固定电话", "13800138000") },
                Column {
                    list: Some(super::members::STATUSES.iter().map(|s| s.to_string()).collect()), ..col("党籍状态", 10.0, "否", "默认为 正常", "正常")
                },
            ];
            for c in &mut cols {
                if c.header == "党组织编码" {
                    c.example = "";
                }
            }
            (cols, "党员信息", "党员导入模板.xlsx", "members-template.xlsx")
        }
        ImportKind::Orgs => (
            vec![
                col("外部编号", 14.0, "否", "主数据系统中的编号；再次导入时按它找到同一组织", "ORG-0101"),
                col("党组织编码", 12.0, "必填", "唯一编码；再次导入时（无外部编号）按它找到同一组织", "D0105"),
                col("党组织名称", 24.0, "新增时必填", "全称", "机关第五党支部"),
                Column {
                    list: Some(super::orgs::KINDS.iter().map(|s| s.to_string()).collect()),
                    ..col("党组织类别", 10.0, "新增时必填", "党委、党总支、党支部 或 党小组", "党支部")
                },
                Column {
                    list: Some(codes.clone()),
                    ..col("上级党组织编码", 14.0, "新增时必填", "已有组织的编码，或本文件中更靠前一行的编码；导入不改变已有组织的上级", "")
                },
                Column { date: true, ..col("成立日期", 12.0, "否", "日期", "2026-07-01") },
                Column { date: true, ..col("本届任期开始", 14.0, "否", "日期", "2026-07-01") },
                Column { date: true, ..col("本届任期届满", 14.0, "否", "日期；晚于任期开始", "2029-06-30") },
            ],
            "党组织信息",
            "党组织导入模板.xlsx",
            "orgs-template.xlsx",
        ),
    };
    let bytes = write(&columns, sheet, &example_org).map_err(xerr)?;
    Ok((bytes, name, ascii))
}

fn write(columns: &[Column], sheet_name: &str, example_org: &str) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold().set_background_color(Color::RGB(0xC00000)).set_font_color(Color::White);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let text = Format::new().set_num_format("@");
    let mut data = Worksheet::new();
    data.set_name(sheet_name)?;
    let mut lists = Worksheet::new();
    lists.set_name("代码表")?;
    let mut list_col: u16 = 0;
    for (i, c) in columns.iter().enumerate() {
        let i = i as u16;
        data.set_column_width(i, c.width)?;
        if c.date {
            data.set_column_format(i, &date)?;
        }
        if c.text {
            data.set_column_format(i, &text)?;
        }
        data.write_string_with_format(0, i, c.header, &header)?;
        let example = if c.header.ends_with("党组织编码") && c.example.is_empty() { example_org } else { c.example };
        if c.date {
            if let Ok(d) = chrono::NaiveDate::parse_from_str(example, "%Y-%m-%d") {
                data.write_date_with_format(1, i, d, &date)?;
            }
        } else if !example.is_empty() {
            data.write_string(1, i, example)?;
        }
        if let Some(values) = c.list.as_ref().filter(|v| !v.is_empty()) {
            lists.write_string(0, list_col, c.header)?;
            for (r, v) in values.iter().enumerate() {
                lists.write_string(r as u32 + 1, list_col, v)?;
            }
            let letter = rust_xlsxwriter::utility::column_number_to_name(list_col);
            let formula = Formula::new(format!("='代码表'!${letter}$2:${letter}${}", values.len() + 1));
            let dv = DataValidation::new().allow_list_formula(formula).ignore_blank(true);
            data.add_data_validation(1, i, 10_000, i, &dv)?;
            list_col += 1;
        }
    }
    data.set_freeze_panes(1, 0)?;
    let mut help = Worksheet::new();
    help.set_name("说明")?;
    help.set_column_width(0, 16)?;
    help.set_column_width(1, 16)?;
    help.set_column_width(2, 70)?;
    help.set_column_width(3, 20)?;
    for (i, h) in ["列名", "是否必填", "说明", "示例"].iter().enumerate() {
        help.write_string_with_format(0, i as u16, *h, &header)?;
    }
    for (r, c) in columns.iter().enumerate() {
        let r = r as u32 + 1;
        help.write_string(r, 0, c.header)?;
        help.write_string(r, 1, c.required)?;
        help.write_string(r, 2, c.help)?;
        help.write_string(r, 3, if c.header.ends_with("党组织编码") && c.example.is_empty() { example_org } else { c.example })?;
    }
    let n = columns.len() as u32 + 2;
    let notes = [
        "第二行是示例，导入前请删除或改写。列的顺序可以调整，标题行上方可以有标题行；按列名识别。",
        "日期可写作 2001-07-01、2001.07.01、2001/07/01、2001年7月1日 或 20010701。",
        "先“检查”（试导入）查看问题，再“导入”；有错误的行默认整批不导入，可选择只导入无误的行。",
        "已有记录按外部编号（其次公民身份号码或党组织编码）匹配并更新；空白单元格不会清空已有信息。",
    ];
    for (i, note) in notes.iter().enumerate() {
        help.write_string(n + i as u32, 0, *note)?;
    }
    lists.set_hidden(true);
    book.push_worksheet(data);
    book.push_worksheet(help);
    book.push_worksheet(lists);
    book.save_to_buffer()
}
